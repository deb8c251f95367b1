from .aux_loss_hook import AuxLossHook
from .enhancement_visualization_hook import EnhancementVisualizationHook
from .enhancer_pipeline_hook import EnhancerPipelineHook, record_enhancer_pipeline
from .non_finite_guard_hook import NonFiniteGuardHook, NonFiniteTrainingError

__all__ = [
    'AuxLossHook', 'EnhancementVisualizationHook', 'EnhancerPipelineHook', 'NonFiniteGuardHook',
    'NonFiniteTrainingError', 'record_enhancer_pipeline'
]
