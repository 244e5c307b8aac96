"""The request fields' data types as people read them (admin pages, the audit log). The codes
(services.models.ServiceField.DATATYPES) stay what catalog files and the Open311 API use."""
from __future__ import annotations

from services.core.texts import N_

DATATYPE_NAMES: dict[str, str] = {
    "string": N_("单行文本"),
    "text": N_("多行文本"),
    "number": N_("数字"),
    "datetime": N_("日期"),
    "singlevaluelist": N_("单选列表"),
    "multivaluelist": N_("多选列表"),
}
