"""MQTT (paho-mqtt) for the store's sensors: the ingest consumer and a device publisher."""
