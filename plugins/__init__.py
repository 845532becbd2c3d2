"""The provider plugins that ship with py302.

Each module is a plugin like any third-party one: hook implementations only, no
access to private parts of the core. They are loaded by module path, in this order.
Importing this package imports none of them. A provider whose spec declares all its
behaviour (Gongji, Kling) has no module here: the host registers it from the
generated bindings.
"""

BUILTIN_PLUGINS = (
    "py302.plugins.gateway",
    "py302.plugins.chat",
    "py302.plugins.flux",
    "py302.plugins.stability",
    "py302.plugins.claude",
    "py302.plugins.gemini",
    "py302.plugins.responses",
)
