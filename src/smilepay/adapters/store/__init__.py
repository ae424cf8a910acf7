"""Store adapters: entry QR codes drawn with segno and read from gate frames with zxing-cpp."""
