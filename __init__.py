"""imagetrail: an event-sourced audit and rollback engine for OpenShift image stream tags."""

__version__ = "0.1.0"
