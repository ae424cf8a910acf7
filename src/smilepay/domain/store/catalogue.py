"""The store's catalogue by GTIN-14 (name, price, unit weight), imported from CSV.

CSV: a header ``gtin,name,price_minor,unit_weight_g`` then one product a row. Every row is
checked; the import is refused as a whole, naming the first bad rows, when any is wrong.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from smilepay.domain.store.errors import InvalidCatalogue
from smilepay.domain.store.sgtin import check_gtin14
from smilepay.errors import InvalidInput

COLUMNS = ("gtin", "name", "price_minor", "unit_weight_g")
MAX_ROWS = 50_000
MAX_NAME_CHARS = 120
MAX_PRICE_MINOR = 10_000_000
MAX_WEIGHT_G = 50_000
MAX_CSV_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Product:
    gtin: str
    name: str
    price_minor: int
    unit_weight_g: int


def _int_field(value: str, name: str, low: int, high: int) -> int:
    text = value.strip()
    if not text.isascii() or not text.isdigit():
        raise InvalidInput(f"expected {name} as a whole number, got {text[:20]!r}")
    number = int(text)
    if not low <= number <= high:
        raise InvalidInput(f"expected {name} in {low}..{high}, got {number}")
    return number


def product_from_fields(gtin: str, name: str, price_minor: str | int,
                        unit_weight_g: str | int) -> Product:
    clean = name.strip()
    if not clean or len(clean) > MAX_NAME_CHARS or not clean.isprintable():
        raise InvalidInput(f"expected a printable name of 1..{MAX_NAME_CHARS} chars, "
                           f"got {clean[:30]!r}")
    return Product(
        gtin=check_gtin14(gtin.strip()), name=clean,
        price_minor=_int_field(str(price_minor), "price_minor", 0, MAX_PRICE_MINOR),
        unit_weight_g=_int_field(str(unit_weight_g), "unit_weight_g", 1, MAX_WEIGHT_G),
    )


def parse_catalogue_csv(data: bytes | str) -> list[Product]:
    """The products in a catalogue CSV, or ``InvalidCatalogue`` listing up to 5 bad rows."""
    if len(data) > MAX_CSV_BYTES:
        raise InvalidCatalogue(f"expected a CSV of at most {MAX_CSV_BYTES} bytes, got {len(data)}")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidCatalogue("expected UTF-8 text, got undecodable bytes") from exc
    rows = csv.reader(io.StringIO(data))
    header = next(rows, None)
    if header is None or tuple(h.strip().lower() for h in header) != COLUMNS:
        raise InvalidCatalogue(f"expected the header {','.join(COLUMNS)}, got "
                               f"{','.join(header or [])[:80]!r}")
    products: list[Product] = []
    problems: list[str] = []
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(products) >= MAX_ROWS:
            raise InvalidCatalogue(f"expected at most {MAX_ROWS} products, got more")
        try:
            if len(row) != len(COLUMNS):
                raise InvalidInput(f"expected {len(COLUMNS)} fields, got {len(row)}")
            product = product_from_fields(*row)
            if product.gtin in seen:
                raise InvalidInput(f"expected each GTIN once, got {product.gtin} again")
        except InvalidInput as exc:
            problems.append(f"line {line}: {exc.message}")
            continue
        seen.add(product.gtin)
        products.append(product)
    if problems:
        raise InvalidCatalogue("; ".join(problems[:5]), bad_rows=len(problems))
    if not products:
        raise InvalidCatalogue("expected at least one product, got none")
    return products


def catalogue_csv(products: list[Product]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for p in products:
        writer.writerow([p.gtin, p.name, p.price_minor, p.unit_weight_g])
    return out.getvalue()
