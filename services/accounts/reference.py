"""Reference lists for enterprise profiles: townships of 澧县, industries and enterprise sizes.

The townships follow the county's administrative division (4 街道 and the towns); the
industries put the county plan's key industries first, then the sections of the national
industry classification GB/T 4754-2017.

Township names are place names (data); the industry and size labels are msgids marked with N_,
shown in the page language by the web layer (the stored values are the keys).
"""
from __future__ import annotations

from services.core.texts import N_

TOWNSHIPS: tuple[str, ...] = (
    "澧阳街道", "澧浦街道", "澧澹街道", "澧西街道",
    "小渡口镇", "梦溪镇", "复兴厂镇", "大堰垱镇", "王家厂镇", "码头铺镇", "甘溪滩镇", "火连坡镇",
    "盐井镇", "如东镇", "城头山镇", "官垸镇", "涔南镇", "澧南镇", "车溪乡",
    "澧县经济开发区",
)

KEY_INDUSTRIES: tuple[tuple[str, str], ...] = (
    ("cosmetics", N_("化妆品")),
    ("biomedicine", N_("生物医药")),
    ("textile", N_("纺织服装")),
    ("herbs", N_("中药材")),
    ("food", N_("食品及农产品加工")),
    ("green", N_("新能源与节能环保")),
    ("logistics", N_("现代物流与电子商务")),
)

# GB/T 4754-2017 门类, each label led by its letter
NATIONAL_SECTIONS: tuple[tuple[str, str], ...] = (
    ("A", N_("A 农、林、牧、渔业")),
    ("B", N_("B 采矿业")),
    ("C", N_("C 制造业")),
    ("D", N_("D 电力、热力、燃气及水生产和供应业")),
    ("E", N_("E 建筑业")),
    ("F", N_("F 批发和零售业")),
    ("G", N_("G 交通运输、仓储和邮政业")),
    ("H", N_("H 住宿和餐饮业")),
    ("I", N_("I 信息传输、软件和信息技术服务业")),
    ("J", N_("J 金融业")),
    ("K", N_("K 房地产业")),
    ("L", N_("L 租赁和商务服务业")),
    ("M", N_("M 科学研究和技术服务业")),
    ("N", N_("N 水利、环境和公共设施管理业")),
    ("O", N_("O 居民服务、修理和其他服务业")),
    ("P", N_("P 教育")),
    ("Q", N_("Q 卫生和社会工作")),
    ("R", N_("R 文化、体育和娱乐业")),
    ("S", N_("S 公共管理、社会保障和社会组织")),
    ("T", N_("T 国际组织")),
)

INDUSTRIES: tuple[tuple[str, str], ...] = KEY_INDUSTRIES + NATIONAL_SECTIONS

SIZES: tuple[tuple[str, str], ...] = (
    ("micro", N_("微型企业")),
    ("small", N_("小型企业")),
    ("medium", N_("中型企业")),
    ("large", N_("大型企业")),
    ("individual", N_("个体工商户")),
)


def label(choices: tuple[tuple[str, str], ...], key: str) -> str:
    return dict(choices).get(key, key)
