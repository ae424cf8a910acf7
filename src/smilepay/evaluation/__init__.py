"""Evaluation on your own data: verification (ROC/DET, TAR at FAR, EER, calibration tables),
identification (rank-1, FNIR at FPIR) and smile detection, with plots (matplotlib, Agg)."""
