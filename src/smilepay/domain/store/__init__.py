"""The checkout-free store's pure rules: tags (SGTIN-96), the catalogue, trips, reconciliation.

No I/O here: the services own transactions, the adapters own the broker and the database.
"""
