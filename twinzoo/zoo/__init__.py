"""One module per network family: its catalogue entries (``FAMILY``), found by
``twinzoo.catalogue`` without a list to edit."""
