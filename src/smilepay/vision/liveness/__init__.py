"""Layered liveness (presentation-attack detection).

- ``challenge``  random challenge bound to a nonce, and the chance a replay answers it
- ``actions``    how an action (smile, blink, turn, open mouth) is read from FaceSignals
- ``verify``     the challenge verifier over per-frame observations (pure)
- ``passive``    cheap image cues (moire, colour, highlights, edges, sharpness, flicker)
- ``depth``      relief of the face in an aligned depth map; ``synthetic_depth`` makes test maps
- ``metrics``    ISO/IEC 30107-3 measures: APCER, BPCER, AUC, DET
- ``fusion``     per-layer calibration and the decision per terminal capability
- ``layered``    ``LayeredLivenessCheck``, the ``LivenessCheck`` port over all of the above
"""
