"""Ports: the Protocols the core needs from the outside world, one module per area.

- ``ports.vision``    FaceDetector, Embedder, FaceAnalyzer
- ``ports.liveness``  LivenessCheck
- ``ports.money``     repositories / unit of work for the ledger and payments, Clock
- ``ports.notify``    Notifier
- ``ports.identity``  TemplateStore, VectorIndex, KeyRing
"""
