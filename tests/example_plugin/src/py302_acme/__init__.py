"""py302-acme: an example third-party py302 plugin for Acme Imaging, a made-up provider.

Acme Imaging does not exist; the package shows what a plugin distribution looks like
and gives py302's plugin kit a provider that is not built in. Installing it is enough:
py302 finds `py302_acme.plugin` through the `py302` entry point, and
`client.provider("acme").render(prompt=...)` submits a render job.

`py302_acme.generated` is compiled from specs/acme.yaml by `py302 codegen`; never edit
it by hand.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
