"""The clinic page: a local web app for the physical therapist over the dataset and the reports.

``imuback serve --dataset DIR`` (see :func:`imuback.serve.app.create_app`).
"""
