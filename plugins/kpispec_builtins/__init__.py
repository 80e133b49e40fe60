"""kpispec's first-party plugins, registered through the ``kpispec`` entry-point group."""
