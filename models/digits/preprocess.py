"""The digits model's input pipeline in numpy (no torch), shared by train.py
and tests/test_digits.sh.

It restates, step for step and in float32, what `onnxi run` does to an image
(tools/tensor_io.c, image_to_tensor) with the settings stored in digits.onnx's
metadata_props, so the network is trained on exactly the tensors onnxi feeds
it from a PNG:

    8-bit pixels -> bilinear resize of the shorter side to RESIZE (half-pixel
    centres, edges clamped) -> center crop SIZE -> /255 -> 1 - x (INVERT)
    -> (x - MEAN) / STD -> N x 1 x SIZE x SIZE float32

Images are dark digits on white paper (255 = background), the way a user
would draw or scan one; the inversion turns ink into high values.
"""

import numpy as np

SIZE = 32
RESIZE = 32
INVERT = True
# Mean and std of the inverted [0,1] training pixels at 32x32 (train.py
# prints them); rounded, because these exact decimals go into the metadata.
MEAN = 0.3054
STD = 0.3236
LABELS = [str(d) for d in range(10)]


def metadata():
    """The onnxi.* metadata_props entries that make `onnxi run` do the above."""
    return {
        "onnxi.image_size": str(SIZE),
        "onnxi.image_resize": str(RESIZE),
        "onnxi.image_channels": "1",
        "onnxi.image_mean": repr(MEAN),
        "onnxi.image_std": repr(STD),
        "onnxi.image_invert": "1" if INVERT else "0",
        "onnxi.labels": ",".join(LABELS),
    }


def digits_to_pixels(values):
    """sklearn digit values 0..16 (ink high) -> 8-bit paper-white pixels."""
    ink = np.rint(np.asarray(values, dtype=np.float64) * (255.0 / 16.0)).astype(np.uint8)
    return (255 - ink).astype(np.uint8)


def _axis_taps(n_src, scale, offset, n_out):
    """Source indices and weights of one axis, as onnxi computes them."""
    f32 = np.float32
    d = np.arange(n_out, dtype=f32)
    s = (d + f32(offset) + f32(0.5)) / f32(scale) - f32(0.5)
    s = np.clip(s, f32(0), f32(n_src - 1)).astype(f32)
    i0 = s.astype(np.int64)
    i1 = np.minimum(i0 + 1, n_src - 1)
    return i0, i1, (s - i0.astype(f32)).astype(f32)


def pixels_to_tensor(pixels):
    """(N, H, W) uint8 grayscale pixels -> (N, 1, SIZE, SIZE) float32 input."""
    f32 = np.float32
    px = np.asarray(pixels, dtype=f32)
    n, h, w = px.shape
    scale = f32(RESIZE) / f32(min(w, h))
    ox = (f32(w) * scale - f32(SIZE)) / f32(2)
    oy = (f32(h) * scale - f32(SIZE)) / f32(2)
    x0, x1, fx = _axis_taps(w, scale, ox, SIZE)
    y0, y1, fy = _axis_taps(h, scale, oy, SIZE)
    fx = fx[None, None, :]
    fy = fy[None, :, None]
    top = px[:, y0][:, :, x0] * (f32(1) - fx) + px[:, y0][:, :, x1] * fx
    bot = px[:, y1][:, :, x0] * (f32(1) - fx) + px[:, y1][:, :, x1] * fx
    v = (top * (f32(1) - fy) + bot * fy) / f32(255)
    if INVERT:
        v = f32(1) - v
    v = (v - f32(MEAN)) / f32(STD)
    return np.ascontiguousarray(v.astype(f32)[:, None, :, :])


def png_write(path, pixels):
    """Writes an (H, W) uint8 array as an 8-bit grayscale PNG (zlib only)."""
    import struct
    import zlib

    h, w = pixels.shape

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + np.ascontiguousarray(row, dtype=np.uint8).tobytes() for row in pixels)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def png_read(path):
    """Reads back what png_write writes (8-bit grayscale, filter 0) as (H, W) uint8."""
    import struct
    import zlib

    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    pos, idat, w, h = 8, b"", 0, 0
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            w, h, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if (depth, color, interlace) != (8, 0, 0):
                raise ValueError(f"{path}: only 8-bit grayscale, non-interlaced PNGs are read here")
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    rows = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(h, w + 1)
    if rows[:, 0].any():
        raise ValueError(f"{path}: PNG row filters other than 0 are not read here")
    return rows[:, 1:].copy()
