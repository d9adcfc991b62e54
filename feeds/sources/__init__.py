"""Portal source adapters. Each module registers itself on :data:`pusher.registry.SOURCES`.

``html`` (generic, XPath-configured), ``hanweb`` (Hanweb jcms), ``trs`` (TRS WCM), ``rss``
(RSS 2.0 / Atom). A new adapter is one module here plus one import line below; the contract
tests in ``tests/sources`` run against every registered kind.
"""

from feeds.sources import hanweb, html, rss, trs  # noqa: F401
