"""I/O of the simulator: MQTT links, the status surface, REST registration."""
