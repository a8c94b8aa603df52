"""The pure rules: money, periods, the catalogue, rating, invoicing, OCR, the invoice's state."""
