"""Reading and writing feeds: portal sources in (``feeds.sources``), the channel manifest out."""
