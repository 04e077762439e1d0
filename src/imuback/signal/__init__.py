"""Pure array code: resample -> align (sensor->body) -> activity -> events -> metrics. No I/O."""
