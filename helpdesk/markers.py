"""The pluggy markers of the ``helpdesk`` project. A leaf module: the core's own hook
modules import ``hookimpl`` from here; plugins use ``from helpdesk import hookimpl``."""
import pluggy

hookimpl = pluggy.HookimplMarker("helpdesk")
hookspec = pluggy.HookspecMarker("helpdesk")
