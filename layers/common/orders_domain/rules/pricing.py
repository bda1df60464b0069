"""Money: the one place where lines are priced and totals summed (Decimal, never float), and the
approval rule. The order workflow and a quote both price through here, so that a quote and the
order placed for the same cart at the same prices agree."""

from collections.abc import Iterable, Mapping
from decimal import Decimal

from orders_domain.models import Line, PricedLine, Quote, QuoteLine, StockItem


def needs_approval(total: Decimal, threshold: Decimal) -> bool:
    """The one approval rule: the workflow's decision and a quote's `approval_required` both ask it."""
    return total > threshold


def line_total(unit_price: Decimal, quantity: int) -> Decimal:
    return unit_price * quantity


def priced_lines(lines: Iterable[Line], stock: Mapping[str, StockItem]) -> list[PricedLine]:
    """Each line at its product's current price (every product must be in `stock`)."""
    return [
        PricedLine(product_id=line.product_id, quantity=line.quantity, price=stock[line.product_id].price)
        for line in lines
    ]


def total_of(lines: Iterable[PricedLine]) -> Decimal:
    return sum((line_total(line.price, line.quantity) for line in lines), Decimal(0))


def quote(items: Iterable[Line], stock: Mapping[str, StockItem], approval_threshold: Decimal) -> Quote:
    """A cart priced now, changing nothing: an unknown product is unavailable and has no price; a
    known one short of stock is unavailable but priced, and counts in the total."""
    lines = []
    for item in items:
        found = stock.get(item.product_id)
        if found is None:
            lines.append(QuoteLine(product_id=item.product_id, quantity=item.quantity, available=False))
            continue
        lines.append(
            QuoteLine(
                product_id=item.product_id,
                quantity=item.quantity,
                unit_price=found.price,
                line_total=line_total(found.price, item.quantity),
                available=found.quantity >= item.quantity,
            )
        )
    total = sum((line.line_total for line in lines if line.line_total is not None), Decimal(0))
    return Quote(items=lines, total=total, approval_required=needs_approval(total, approval_threshold))
