"""Reference lists for enterprise profiles: townships of 澧县, industries and enterprise sizes.

The townships follow the county's administrative division (4 街道 and the towns); the
industries put the county plan's key industries first, then the sections of the national
industry classification GB/T 4754-2017.
"""
from __future__ import annotations

TOWNSHIPS: tuple[str, ...] = (
    "澧阳街道", "澧浦街道", "澧澹街道", "澧西街道",
    "小渡口镇", "梦溪镇", "复兴厂镇", "大堰垱镇", "王家厂镇", "码头铺镇", "甘溪滩镇", "火连坡镇",
    "盐井镇", "如东镇", "城头山镇", "官垸镇", "涔南镇", "澧南镇", "车溪乡",
    "澧县经济开发区",
)

KEY_INDUSTRIES: tuple[tuple[str, str], ...] = (
    ("cosmetics", "化妆品"),
    ("biomedicine", "生物医药"),
    ("textile", "纺织服装"),
    ("herbs", "中药材"),
    ("food", "食品及农产品加工"),
    ("green", "新能源与节能环保"),
    ("logistics", "现代物流与电子商务"),
)

# GB/T 4754-2017 门类
NATIONAL_SECTIONS: tuple[tuple[str, str], ...] = (
    ("A", "农、林、牧、渔业"), ("B", "采矿业"), ("C", "制造业"),
    ("D", "电力、热力、燃气及水生产和供应业"), ("E", "建筑业"), ("F", "批发和零售业"),
    ("G", "交通运输、仓储和邮政业"), ("H", "住宿和餐饮业"), ("I", "信息传输、软件和信息技术服务业"),
    ("J", "金融业"), ("K", "房地产业"), ("L", "租赁和商务服务业"), ("M", "科学研究和技术服务业"),
    ("N", "水利、环境和公共设施管理业"), ("O", "居民服务、修理和其他服务业"), ("P", "教育"),
    ("Q", "卫生和社会工作"), ("R", "文化、体育和娱乐业"), ("S", "公共管理、社会保障和社会组织"),
    ("T", "国际组织"),
)

INDUSTRIES: tuple[tuple[str, str], ...] = KEY_INDUSTRIES + tuple(
    (code, f"{code} {name}") for code, name in NATIONAL_SECTIONS)

SIZES: tuple[tuple[str, str], ...] = (
    ("micro", "微型企业"), ("small", "小型企业"), ("medium", "中型企业"), ("large", "大型企业"),
    ("individual", "个体工商户"),
)


def label(choices: tuple[tuple[str, str], ...], key: str) -> str:
    return dict(choices).get(key, key)
