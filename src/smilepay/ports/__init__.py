"""Ports: the Protocols the core needs from the outside world, one module per area.

- ``ports.vision``    FaceDetector, Embedder, FaceAnalyzer
- ``ports.liveness``  LivenessCheck
- ``ports.money``     repositories / unit of work for the ledger and payments, Clock
- ``ports.notify``    Notifier
- ``ports.identity``  IdentityStore (templates, consent, audit, codes, challenges), KeyRing,
                      Rotations
- ``ports.gallery``   Gallery: the templates every worker searches (FAISS + change log,
                      pgvector, Milvus)
- ``ports.sessions``  SessionStore: frame, challenge and enrolment sessions with a TTL
- ``ports.flow``      FlowStore: mandates, phone-factor attempts, rate limits, code use
"""
