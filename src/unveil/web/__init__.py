"""A party's private web view over its own workspace (``unveil ui``): a small FastAPI app on
127.0.0.1 only, behind a random token and a Host-header check (:mod:`.app`, :mod:`.serve`).
Like :mod:`unveil.cli` it sits on top: it calls the workspace's services and never touches
:mod:`unveil.store`; the public board (:mod:`unveil.api`) knows nothing of it."""
