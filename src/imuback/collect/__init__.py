"""BLE collection: scan, connect, sensor protocols, durable journal."""
