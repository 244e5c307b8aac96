"""Generates a large, realistic catalog file for the search benchmark.

The file follows the catalog format of shared/DESIGN.md (the format `flask --app portal catalog
import` reads). It holds the bundled county catalog (services/data/catalog.json: its 22 bureaus
and 89 services, unchanged) plus generated services up to the requested total, so that the
bundled services -- the ones real queries such as "地磅" are meant to find -- compete against
thousands of plausible neighbours.

Generated names combine real service actions of each category with real subjects: measuring
instruments from the compulsory-verification catalogue, local products and industries of the
county, construction materials, special equipment ... and, to reach 10,000 distinct names, a
service point (town, street or park of 澧县). Every category/action pair is answered by the
bureau the bundled catalog (and the county plan) gives it. Guide texts (summary, conditions,
materials, process, legal basis) are filled from per-category templates, so the body text of
the index has a realistic vocabulary and length.

    .venv/bin/python bench/catalog_gen.py 10000 /tmp/catalog-10k.json
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED = REPO_ROOT / "services" / "data" / "catalog.json"

# --------------------------------------------------------------------------- vocabulary
INSTRUMENTS = [
    "电子计价秤", "电子台秤", "电子吊秤", "电子汽车衡", "数字指示秤", "弹簧度盘秤", "电子皮带秤", "定量包装秤",
    "标准砝码", "燃油加油机", "燃气加气机", "液化石油气加气机", "出租车计价器", "电能表", "冷水水表",
    "膜式燃气表", "热能表", "一般压力表", "精密压力表", "血压计", "眼压计", "验光仪", "验光镜片组", "心电图仪",
    "脑电图仪", "医用超声源", "医用激光源", "呼出气体酒精含量检测仪", "机动车测速仪", "声级计", "烟尘采样器",
    "可燃气体检测报警器", "有害气体分析仪", "谷物水分测定仪", "粮食容重器", "酒精计", "糖量计", "密度计",
    "电子天平", "游标卡尺", "外径千分尺", "百分表", "工作用玻璃温度计", "温湿度计", "转速表", "扭矩扳手",
    "电磁流量计", "液位计", "称重传感器", "数字万用表", "钳形电流表", "绝缘电阻表", "接地电阻测试仪", "酸度计",
    "电导率仪", "紫外可见分光光度计", "气相色谱仪", "液相色谱仪", "原子吸收分光光度计", "电热鼓风干燥箱",
    "生化培养箱", "压力蒸汽灭菌器", "移液器", "钢卷尺", "全站仪", "水准仪", "激光测距仪",
]
METROLOGY_ACTIONS = [
    ("首次检定", "amr"), ("周期检定", "amr"), ("校准", "amr"), ("修理后检定", "amr"), ("现场检定预约", "amr"),
    ("送检登记", "amr"), ("强检备案", "amr"), ("检定证书补发", "amr"), ("期间核查指导", "amr"),
    ("计量比对", "amr"),
]

PRODUCTS_FOOD = [
    "澧县葡萄", "柑橘", "优质稻", "大米", "油菜籽", "菜籽油", "茶叶", "黄桃", "生猪", "稻虾", "小龙虾", "鲜鸡蛋",
    "腊肉", "米粉", "豆腐乳", "豆制品", "白酒", "米酒", "酱腌菜", "糕点", "蜂蜜", "食用菌", "莲藕", "蔬菜",
    "水产品", "葡萄酒", "果汁饮料", "包装饮用水", "速冻食品", "调味品",
]
PRODUCTS_HERB = ["黄柏", "杜仲", "厚朴", "枳壳", "玉竹", "白术", "茯苓", "百合", "金银花", "菊花"]
PRODUCTS_INDUSTRY = [
    "纺织面料", "针织服装", "羽绒服", "童装", "化妆品", "洗护用品", "生物制药", "医疗器械", "电线电缆",
    "农机配件", "五金工具", "塑料制品", "食品包装材料", "家具", "电子元器件", "锂电池", "光伏组件", "汽车零部件",
    "新型建材", "卫生用品", "日用化学品", "饲料", "化肥", "农药", "陶瓷制品", "玻璃制品", "纸制品",
]
PRODUCTS_BUILD = ["混凝土", "钢筋", "水泥", "砂石骨料", "沥青混合料", "防水卷材", "建筑瓷砖", "塑料管材",
                  "门窗", "保温材料", "预制构件", "砌块"]
WORKS_WATER = ["堤防工程", "小型水库", "灌区渠道", "泵站", "河道整治工程", "农村供水工程"]
WORKS_ROAD = ["公路路基", "沥青路面", "水泥混凝土路面", "桥梁", "涵洞", "农村公路"]
SPECIAL_EQUIPMENT = ["电梯", "叉车", "承压锅炉", "压力容器", "压力管道", "起重机械", "场（厂）内专用机动车辆",
                     "大型游乐设施", "气瓶", "安全阀"]
INDUSTRIES = [
    "食品加工", "纺织服装", "化妆品", "生物医药", "建材", "机械制造", "电子信息", "新能源", "农产品加工",
    "中药材", "现代物流", "电子商务", "文化旅游", "养老服务", "家政服务", "餐饮服务", "汽车零部件", "五金制品",
    "包装印刷", "家居建材", "农业合作社", "家庭农场",
]
SERVICE_POINTS = [
    "澧阳街道", "澧西街道", "澧浦街道", "澧澹街道", "小渡口镇", "梦溪镇", "复兴镇", "盐井镇", "王家厂镇",
    "码头铺镇", "火连坡镇", "甘溪滩镇", "官垸镇", "涔南镇", "大堰垱镇", "城头山镇", "澧南镇", "如东镇", "金罗镇",
    "车溪乡", "澧县经济开发区", "澧县高新技术产业园",
]

# category -> list of (name pattern, bureau, subjects, keyword of the action)
PLAN: dict[str, list[tuple[str, str, list[str], str]]] = {
    "metrology": [("{s}" + a, b, INSTRUMENTS, a.replace("预约", "").replace("登记", "")) for a, b in METROLOGY_ACTIONS],
    "standardization": [
        ("{s}企业标准自我声明公开指导", "amr", PRODUCTS_FOOD + PRODUCTS_INDUSTRY, "企业标准"),
        ("{s}团体标准制定指导", "amr", PRODUCTS_FOOD + PRODUCTS_INDUSTRY, "团体标准"),
        ("{s}地方标准立项建议", "amr", PRODUCTS_FOOD + PRODUCTS_HERB, "地方标准"),
        ("{s}标准化生产示范基地创建", "amr", PRODUCTS_FOOD + PRODUCTS_HERB, "标准化基地"),
        ("{s}行业标准体系建设辅导", "amr", INDUSTRIES, "标准体系"),
        ("{s}企业对标达标提升", "amr", INDUSTRIES, "对标达标"),
        ("{s}标准查新与有效性确认", "amr", PRODUCTS_INDUSTRY + PRODUCTS_BUILD, "标准查询"),
        ("{s}商品条码注册指导", "amr", PRODUCTS_FOOD + PRODUCTS_INDUSTRY, "商品条码"),
        ("{s}服务标准化试点申报", "civil", ["养老服务", "社区居家养老", "敬老院"], "服务标准化"),
        ("{s}安全生产标准化定级申请", "emergency", INDUSTRIES, "安全生产标准化"),
    ],
    "testing": [
        ("{s}产品质量委托检验", "amr", PRODUCTS_FOOD + PRODUCTS_INDUSTRY, "委托检验"),
        ("{s}抽检不合格复检申请", "amr", PRODUCTS_FOOD + PRODUCTS_INDUSTRY, "复检"),
        ("{s}农药残留快速检测", "agri", PRODUCTS_FOOD[:16] + PRODUCTS_HERB, "农残检测"),
        ("{s}兽药残留检测", "agri", ["生猪", "稻虾", "小龙虾", "鲜鸡蛋", "水产品", "蜂蜜", "腊肉"], "兽残检测"),
        ("{s}重金属检测", "amr", PRODUCTS_FOOD + PRODUCTS_HERB + ["化妆品", "饲料", "化肥"], "重金属"),
        ("{s}微生物检测", "amr", PRODUCTS_FOOD + ["化妆品", "卫生用品", "洗护用品"], "微生物检测"),
        ("{s}成分含量检测", "amr", PRODUCTS_HERB + PRODUCTS_INDUSTRY, "含量测定"),
        ("{s}进场复验与见证取样", "housing", PRODUCTS_BUILD, "见证取样"),
        ("{s}质量检测", "water", WORKS_WATER, "水利检测"),
        ("{s}试验检测", "transport", WORKS_ROAD, "公路检测"),
        ("{s}定期检验申请", "amr", SPECIAL_EQUIPMENT, "特种设备检验"),
    ],
    "certification": [
        ("{s}绿色食品认证申报", "agri", PRODUCTS_FOOD, "绿色食品"),
        ("{s}有机产品认证咨询", "agri", PRODUCTS_FOOD + PRODUCTS_HERB, "有机认证"),
        ("{s}农产品地理标志申报指导", "agri", PRODUCTS_FOOD[:14] + PRODUCTS_HERB, "地理标志"),
        ("{s}食品生产许可（SC）申请", "amr", PRODUCTS_FOOD, "食品生产许可"),
        ("{s}工业产品生产许可证申请指导", "amr", ["电线电缆", "化肥", "食品包装材料", "危险化学品包装物",
                                          "建筑防水卷材", "水泥", "人民币鉴别仪", "预应力混凝土铁路桥简支梁"],
         "生产许可证"),
        ("{s}强制性产品认证（CCC）咨询", "amr", ["电线电缆", "电动自行车", "儿童玩具", "家用电器", "电子元器件",
                                           "汽车零部件", "童车", "照明电器", "防爆电气"], "3C认证"),
        ("{s}企业ISO 9001质量管理体系认证辅导", "amr", INDUSTRIES, "体系认证"),
        ("{s}企业HACCP体系认证辅导", "amr", ["食品加工", "农产品加工", "餐饮服务", "中药材"], "HACCP"),
        ("{s}高端品质认证申报指导", "amr", PRODUCTS_FOOD + PRODUCTS_INDUSTRY, "高端品质认证"),
        ("{s}绿色产品认证咨询", "amr", PRODUCTS_INDUSTRY + PRODUCTS_BUILD, "绿色产品认证"),
    ],
    "quality": [
        ("{s}企业质量精准帮扶", "amr", INDUSTRIES, "质量帮扶"),
        ("{s}企业卓越绩效导入辅导", "amr", INDUSTRIES, "卓越绩效"),
        ("{s}企业QC小组活动指导", "amr", INDUSTRIES, "QC小组"),
        ("{s}企业首席质量官培训", "amr", INDUSTRIES, "首席质量官"),
        ("{s}企业技术改造项目申报", "miit", INDUSTRIES, "技术改造"),
        ("{s}绿色工厂创建申报", "miit", INDUSTRIES, "绿色工厂"),
        ("{s}专精特新中小企业认定辅导", "miit", INDUSTRIES, "专精特新"),
        ("{s}高新技术企业认定辅导", "sti", INDUSTRIES, "高新技术企业"),
        ("{s}质量强县奖补资金申领", "fin", INDUSTRIES, "奖补资金"),
        ("{s}项目节能审查", "drc", INDUSTRIES, "节能审查"),
        ("{s}工程质量监督手续办理", "housing", ["房屋建筑", "市政道路", "市政管网", "装配式建筑", "保障性住房"],
         "质量监督"),
        ("{s}质量纠纷人民调解", "justice", PRODUCTS_INDUSTRY + PRODUCTS_BUILD, "人民调解"),
        ("{s}规范化种植（GAP）基地建设指导", "agri", PRODUCTS_HERB, "中药材GAP"),
    ],
    "brand": [
        ("{s}品牌建设指导", "amr", PRODUCTS_FOOD + PRODUCTS_INDUSTRY, "品牌建设"),
        ("{s}区域公用品牌授权使用申请", "agri", PRODUCTS_FOOD + PRODUCTS_HERB, "区域公用品牌"),
        ("{s}老字号认定申报", "commerce", ["米粉", "腊肉", "豆腐乳", "白酒", "米酒", "酱腌菜", "糕点", "茶叶",
                                        "中医药", "餐饮", "传统手工艺"], "老字号"),
        ("{s}消费名品培育申报", "miit", PRODUCTS_FOOD + PRODUCTS_INDUSTRY, "消费名品"),
        ("{s}跨境电商出海服务", "commerce", PRODUCTS_FOOD + PRODUCTS_INDUSTRY, "跨境电商"),
        ("{s}直播电商帮扶", "commerce", PRODUCTS_FOOD + PRODUCTS_HERB, "直播电商"),
        ("{s}品牌价值评价", "amr", INDUSTRIES, "品牌价值"),
        ("{s}展会推介对接", "commerce", PRODUCTS_FOOD + PRODUCTS_INDUSTRY, "展会"),
        ("{s}乡村旅游品牌创建", "culture", ["旅游民宿", "农家乐", "乡村旅游点", "城头山遗址旅游", "研学旅行基地"],
         "乡村旅游"),
    ],
    "ip": [
        ("{s}商标注册便利化服务", "amr", PRODUCTS_FOOD + PRODUCTS_INDUSTRY, "商标注册"),
        ("{s}专利申请预审", "amr", PRODUCTS_INDUSTRY + INDUSTRIES, "专利预审"),
        ("{s}知识产权质押融资", "amr", INDUSTRIES, "质押融资"),
        ("{s}专利侵权纠纷行政裁决", "amr", PRODUCTS_INDUSTRY, "专利侵权"),
        ("{s}知识产权维权援助", "amr", INDUSTRIES + PRODUCTS_FOOD, "维权援助"),
        ("{s}地理标志证明商标申报", "amr", PRODUCTS_FOOD[:14] + PRODUCTS_HERB, "地理标志商标"),
        ("{s}技术合同认定登记", "sti", INDUSTRIES, "技术合同"),
        ("{s}科技成果转化对接", "sti", INDUSTRIES, "成果转化"),
        ("{s}专利导航与风险预警", "amr", INDUSTRIES, "专利导航"),
        ("{s}商业秘密保护指导", "amr", INDUSTRIES, "商业秘密"),
    ],
}

CODE_PREFIX = {"metrology": "JL", "standardization": "BZ", "testing": "JC", "certification": "RZ",
               "quality": "ZL", "brand": "PP", "ip": "ZC"}
CATEGORY_NAME = {"metrology": "计量", "standardization": "标准化", "testing": "检验检测", "certification": "认证认可",
                 "quality": "质量管理", "brand": "品牌培育", "ip": "知识产权"}

LEGAL_BASIS = {
    "metrology": ["《中华人民共和国计量法》", "《中华人民共和国计量法实施细则》", "《计量器具检定管理办法》",
                  "《实施强制管理的计量器具目录》", "《计量比对管理办法》"],
    "standardization": ["《中华人民共和国标准化法》", "《企业标准化促进办法》", "《团体标准管理规定》",
                        "《地方标准管理办法》", "《商品条码管理办法》", "《湖南省标准化条例》"],
    "testing": ["《中华人民共和国产品质量法》", "《中华人民共和国食品安全法》", "《中华人民共和国农产品质量安全法》",
                "《检验检测机构资质认定管理办法》", "《建设工程质量检测管理办法》", "《中华人民共和国特种设备安全法》"],
    "certification": ["《中华人民共和国认证认可条例》", "《绿色食品标志管理办法》", "《有机产品认证管理办法》",
                      "《食品生产许可管理办法》", "《中华人民共和国工业产品生产许可证管理条例》",
                      "《强制性产品认证管理规定》"],
    "quality": ["《质量强国建设纲要》", "《中华人民共和国产品质量法》", "《高新技术企业认定管理办法》",
                "《中华人民共和国中小企业促进法》", "《固定资产投资项目节能审查办法》", "《建设工程质量管理条例》",
                "《中华人民共和国人民调解法》"],
    "brand": ["《质量强国建设纲要》", "《中华老字号示范创建管理办法》", "《关于加快发展外贸新业态新模式的意见》",
              "《湖南省品牌建设工程行动计划》"],
    "ip": ["《中华人民共和国商标法》", "《中华人民共和国专利法》", "《专利侵权纠纷行政裁决办案指南》",
           "《技术合同认定登记管理办法》", "《中华人民共和国促进科技成果转化法》", "《中华人民共和国反不正当竞争法》"],
}

SUMMARY_TPL = [
    "为{point}范围内从事{s}相关生产经营的企业和个体工商户办理{a}，{cat}业务由{bureau}负责，提供政策咨询、材料预审和全程帮办。",
    "面向{point}的{s}企业，特别是中小企业，提供{a}服务：明确要求、指导准备材料、跟踪办理进度并反馈结果。",
    "{bureau}在{point}设立服务点，集中受理{s}{a}事项，符合条件的可网上申请、一次办好。",
]
CONDITION_TPL = [
    "在本县依法登记注册、从事{s}相关业务的企业、农民专业合作社或个体工商户；申请事项属于{cat}类服务，材料真实、完整。",
    "申请人为{point}辖区内的{s}生产经营主体，近两年未发生重大质量安全事故，已建立基本的质量管理制度。",
]
MATERIALS = [
    "营业执照副本复印件（加盖公章）", "经办人身份证复印件；非法定代表人办理的，提供授权委托书",
    "《{a}申请表》", "{s}相关产品或项目说明", "近一年质量管理或检验记录", "相关证书或报告复印件",
    "现场照片或样品清单", "企业承诺书",
]
PROCESS = [
    "在平台填报申请或到{point}服务窗口提交材料", "{bureau}在1个工作日内预审材料，不齐的一次性告知补正",
    "受理后安排专人对接，必要时开展现场核查或取样", "出具办理结果并告知后续事项", "办结后可在平台查询进度并评价",
]
FEES = ["不收费", "不收费（由财政保障）", "按国家规定的收费标准收取检验费", "按技术服务合同约定收费",
        "不收费；涉及第三方技术服务的按合同约定"]
PHONES = {"amr": "0736-3222315", "sti": "0736-3224512", "drc": "0736-3222108", "miit": "0736-3223626",
          "fin": "0736-3222261", "agri": "0736-3222485", "commerce": "0736-3225168", "culture": "0736-3226030",
          "housing": "0736-3223205", "transport": "0736-3222756", "water": "0736-3222519",
          "civil": "0736-3222577", "emergency": "0736-3228350", "justice": "0736-3222148"}


def _fields(rng: random.Random, category: str) -> list[dict]:
    fields = [{"code": "company", "label": "企业（单位）名称", "required": True, "datatype": "string"},
              {"code": "contact_person", "label": "联系人及电话", "required": True, "datatype": "string"}]
    if category in ("metrology", "testing"):
        fields.append({"code": "quantity", "label": "数量（台/件/批）", "required": True, "datatype": "number"})
        fields.append({"code": "mode", "label": "办理方式", "required": True, "datatype": "singlevaluelist",
                       "values": [{"key": "onsite", "name": "现场办理"}, {"key": "dropoff", "name": "送样/送检"}]})
    if rng.random() < 0.3:
        fields.append({"code": "preferred_date", "label": "期望办理日期", "required": False, "datatype": "datetime"})
    return fields


def generate(total: int, seed: int = 20240601) -> dict:
    """The bundled catalog plus generated services: *total* services in all (at least the 89 bundled)."""
    bundled = json.loads(BUNDLED.read_text("utf-8"))
    bureau_names = {b["code"]: b["short_name"] for b in bundled["bureaus"]}
    services = list(bundled["services"])
    names = {s["name"] for s in services}
    rng = random.Random(seed)

    # Every (category, action, subject) combination, then the same with a service point.
    combos = [(cat, pattern, bureau, subj, kw)
              for cat, actions in PLAN.items()
              for pattern, bureau, subjects, kw in actions
              for subj in dict.fromkeys(subjects)]
    rng.shuffle(combos)
    wanted = max(0, total - len(services))
    counters = dict.fromkeys(CODE_PREFIX, 0)
    attempt = 0
    while len(services) - len(bundled["services"]) < wanted:
        cat, pattern, bureau, subj, kw = combos[attempt % len(combos)]
        round_no = attempt // len(combos)
        attempt += 1
        if attempt > 50 * (wanted + len(combos)):  # pragma: no cover - vocabulary far too small
            raise SystemExit(f"cannot generate {wanted} distinct names")
        base = pattern.format(s=subj)
        point = "全县" if round_no == 0 else rng.choice(SERVICE_POINTS)
        name = base if round_no == 0 else f"{base}（{point}服务点）"
        if name in names:
            continue
        names.add(name)
        counters[cat] += 1
        action = pattern.replace("{s}", "").removeprefix("企业").strip() or kw
        fmt = {"s": subj, "a": action, "cat": CATEGORY_NAME[cat], "bureau": bureau_names[bureau], "point": point}
        time_limit = rng.choice([1, 3, 5, 5, 7, 10, 10, 15, 20])
        service = {
            "code": f"{CODE_PREFIX[cat]}-G{counters[cat]:05d}",
            "name": name,
            "category": cat if rng.random() < 0.8 else CATEGORY_NAME[cat],  # both spellings are valid
            "bureau": bureau,
            "summary": rng.choice(SUMMARY_TPL).format(**fmt),
            "conditions": rng.choice(CONDITION_TPL).format(**fmt),
            "materials": [m.format(**fmt) for m in rng.sample(MATERIALS, rng.randint(3, 5))],
            "process": [p.format(**fmt) for p in PROCESS[: rng.randint(3, 5)]],
            "legal_basis": "；".join(rng.sample(LEGAL_BASIS[cat], 2)),
            "time_limit_days": time_limit,
            "statutory_limit_days": time_limit * rng.choice([1, 2, 3]),
            "fee": rng.choice(FEES),
            "contact": PHONES.get(bureau, "0736-3222306"),
            "keywords": list(dict.fromkeys([subj, kw, subj + kw, CATEGORY_NAME[cat]])),
            "online": rng.random() < 0.7,
            "place": f"{point}便民服务窗口",
            "hours": "工作日 8:00-12:00，14:30-17:30",
            "fields": _fields(rng, cat),
        }
        services.append(service)
    return {"bureaus": bundled["bureaus"], "services": services}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("total", type=int, help="number of services in the file (bundled ones included)")
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args(argv)
    doc = generate(args.total, args.seed)
    args.out.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    print(f"{len(doc['services'])} services -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
