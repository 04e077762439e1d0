"""Synthetic runner sessions with known answers, and the simulated BLE peripheral."""
