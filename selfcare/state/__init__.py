"""States and helpers shared by several pages: the session (and its cookie hand-off), the browser's
orders, the payment provider's checkout, text fields, calling the core (:mod:`.calls`), the staff
session of both consoles (:mod:`.staff`), the offer banners and the payment method.
"""
