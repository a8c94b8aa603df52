"""The app's pages: one package per page (or console) with its page function(s) in ``page.py`` and the
state only it uses in ``state.py`` (and, for the consoles, the parts that state is written in).
States shared by several pages are in :mod:`selfcare.state`; docs/architecture.md "The app" has the map.
"""
