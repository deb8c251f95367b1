from .aux_loss_hook import AuxLossHook

__all__ = ['AuxLossHook']
