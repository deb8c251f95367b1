"""Converters of low-light detection datasets to COCO json (pure Python; no mmdet import)."""
from .coco_format import ConversionError, write_json_atomic
from .darkface import DARKFACE_CLASSES, convert_darkface, parse_darkface_label
from .exdark import EXDARK_CLASSES, convert_exdark, parse_bbgt_file, parse_image_class_list

__all__ = [
    'ConversionError', 'write_json_atomic', 'EXDARK_CLASSES', 'DARKFACE_CLASSES',
    'convert_exdark', 'convert_darkface', 'parse_bbgt_file', 'parse_image_class_list',
    'parse_darkface_label'
]
