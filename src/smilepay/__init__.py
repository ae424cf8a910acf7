"""SmilePay: self-hostable face payment.

The package is laid out as a pure core (``domain``, ``vision``) surrounded by ports
(``ports``), adapters (``adapters``), use cases (``services``) and entry points (``api``,
``web``, ``cli``), wired in one place (``bootstrap``). See docs/ and DESIGN.md.
"""

__version__ = "0.1.0"
