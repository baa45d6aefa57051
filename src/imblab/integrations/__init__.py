"""Drop-ins for other libraries' training code. Each submodule imports its library lazily on use:
``from imblab.integrations.transformers import make_compute_loss_func``."""

__all__: list[str] = []
