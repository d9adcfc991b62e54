"""Portal source adapters, listed in :data:`pusher.registry.SOURCES`.

``html`` (generic, XPath-configured), ``hanweb`` (Hanweb jcms), ``trs`` (TRS WCM), ``rss``
(RSS 2.0 / Atom). A new adapter is one module here (a plain class taking a
:class:`~pusher.interfaces.SourceSpec` and its options model) plus one line in the registry;
the contract tests in ``tests/sources`` run against every registered kind.
"""
