"""The demo operator: generated customers and usage (``demo_data``), a year lived through the services
(``demo_year``), the offers (``offers``) and the seeding of a database (``seed``)."""
