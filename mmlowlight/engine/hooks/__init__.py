from .aux_loss_hook import AuxLossHook
from .enhancement_visualization_hook import EnhancementVisualizationHook
from .non_finite_guard_hook import NonFiniteGuardHook, NonFiniteTrainingError

__all__ = [
    'AuxLossHook', 'EnhancementVisualizationHook', 'NonFiniteGuardHook', 'NonFiniteTrainingError'
]
