"""Model adapters, one port each: YuNet detection, embedders (fr_feature, MobileFaceNet, dlib,
opt-in w600k_mbf), the MediaPipe analyzer and the smile scorers. Every runtime gets one thread."""
