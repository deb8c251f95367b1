"""Environment set-up helpers, mirroring ``mmdet.utils.setup_env``."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every mmlowlight module so that it is registered.

    Args:
        init_default_scope (bool): Whether to make ``'mmlowlight'`` the default scope, so bare
            type names in configs resolve in mmlowlight's registries first. Defaults to True.
    """
    import mmlowlight.models  # noqa: F401,F403

    if not init_default_scope:
        return
    never_created = DefaultScope.get_current_instance() is None \
        or not DefaultScope.check_instance_created('mmlowlight')
    if never_created:
        DefaultScope.get_instance('mmlowlight', scope_name='mmlowlight')
        return
    current_scope = DefaultScope.get_current_instance()
    if current_scope.scope_name != 'mmlowlight':
        warnings.warn('The current default scope '
                      f'"{current_scope.scope_name}" is not "mmlowlight", '
                      '`register_all_modules` will force the current '
                      'default scope to be "mmlowlight". If this is not '
                      'expected, please set `init_default_scope=False`.')
        # avoid name conflict
        new_instance_name = f'mmlowlight-{datetime.datetime.now()}'
        DefaultScope.get_instance(new_instance_name, scope_name='mmlowlight')
