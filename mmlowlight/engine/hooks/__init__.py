from .aux_loss_hook import AuxLossHook
from .enhancement_visualization_hook import EnhancementVisualizationHook

__all__ = ['AuxLossHook', 'EnhancementVisualizationHook']
