"""Offers: marketing's offers and images (``marketing``), who sees them (``banners``), the order sheet and
accepting (``accepting``), previews and results (``results``); the rules that pick subscribers
(``targeting``) and the re-rated plan recommendation (``recommend``).
"""
