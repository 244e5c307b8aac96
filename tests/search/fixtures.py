"""A small realistic catalog (plain dicts) for the search_index tests."""

from __future__ import annotations

from typing import Any


def _svc(
    code: str,
    name: str,
    category: str,
    bureau: str,
    summary: str,
    keywords: list[str],
    *,
    conditions: str = "在本县依法登记注册的企业或个体工商户。",
    materials: list[str] | None = None,
    process: list[str] | None = None,
    legal_basis: str = "",
    online: bool = True,
    popular: bool = False,
    bureau_name: str = "",
    category_name: str = "",
) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "category": category,
        "bureau": bureau,
        "summary": summary,
        "keywords": keywords,
        "conditions": conditions,
        "materials": materials or ["营业执照复印件", "申请表"],
        "process": process or ["在线提交申请", "受理", "审核", "办结"],
        "legal_basis": legal_basis,
        "online": online,
        "popular": popular,
        "bureau_name": bureau_name,
        "category_name": category_name,
        "time_limit_days": 10,  # extra keys are ignored by the index
    }


AMR = "县市场监管局"
SERVICES: list[dict[str, Any]] = [
    _svc(
        "JL-001", "汽车衡（地磅）检定", "metrology", "amr",
        "对企业用于贸易结算的汽车衡（地磅）进行首次检定和周期检定，出具检定证书。",
        ["地磅", "磅秤", "过磅", "年检", "汽车衡"],
        materials=["计量器具强制检定申请书", "汽车衡使用说明书"],
        process=["网上预约", "现场检定", "出具检定证书"],
        legal_basis="《中华人民共和国计量法》第九条",
        popular=True, bureau_name=AMR, category_name="计量",
    ),
    _svc(
        "JL-002", "强制检定计量器具检定", "metrology", "amr",
        "对列入强制检定目录的工作计量器具（如贸易结算用电子秤、加油机、出租车计价器）申请周期检定。",
        ["强检", "电子秤", "加油机", "计价器"],
        materials=["计量器具强制检定登记表", "计量器具台账"],
        legal_basis="《中华人民共和国计量法》《强制检定的工作计量器具检定管理办法》",
        popular=True, bureau_name=AMR, category_name="计量",
    ),
    _svc(
        "JL-003", "计量器具校准服务", "metrology", "amr",
        "为企业生产用压力表、温度计、天平等非强检计量器具提供校准，出具校准证书。",
        ["校准", "压力表", "温度计", "天平"],
        bureau_name=AMR, category_name="计量",
    ),
    _svc(
        "JL-004", "定量包装商品净含量计量监督", "metrology", "amr",
        "对定量包装商品的净含量进行抽检，指导企业做好净含量计量控制。",
        ["净含量", "定量包装", "C标志"],
        online=False, bureau_name=AMR, category_name="计量",
    ),
    _svc(
        "BZ-001", "企业标准自我声明公开", "standardization", "amr",
        "指导企业在企业标准信息公共服务平台上自我声明公开执行的产品标准和服务标准。",
        ["企标", "标准声明", "企业标准"],
        legal_basis="《中华人民共和国标准化法》",
        popular=True, bureau_name=AMR, category_name="标准化",
    ),
    _svc(
        "BZ-002", "团体标准制定指导", "standardization", "amr",
        "为行业协会、商会等社会团体制定团体标准提供程序和技术指导。",
        ["团标", "团体标准"],
        online=False, bureau_name=AMR, category_name="标准化",
    ),
    _svc(
        "JY-001", "产品委托检验", "testing", "amr",
        "企业可将自产产品委托县检验检测中心按国家标准或企业标准进行检验，出具检验报告。",
        ["送检", "质检报告", "产品检测"],
        materials=["委托检验协议书", "样品", "产品执行标准"],
        popular=True, bureau_name=AMR, category_name="检验检测",
    ),
    _svc(
        "JY-002", "化妆品检验检测委托", "testing", "amr",
        "承接化妆品微生物、重金属等项目的委托检验检测。",
        ["化妆品", "微生物", "重金属"],
        bureau_name=AMR, category_name="检验检测",
    ),
    _svc(
        "JY-003", "农产品质量安全检测", "testing", "agri",
        "对蔬菜、水果、茶叶等农产品进行农药残留和质量安全检测。",
        ["农残", "农药残留", "蔬菜检测"],
        bureau_name="县农业农村局", category_name="检验检测",
    ),
    _svc(
        "RZ-001", "检验检测机构资质认定", "certification", "amr",
        "向社会出具具有证明作用数据、结果的检验检测机构申请资质认定（CMA）。",
        ["CMA", "资质认定", "计量认证"],
        legal_basis="《检验检测机构资质认定管理办法》",
        bureau_name=AMR, category_name="认证认可",
    ),
    _svc(
        "RZ-002", "绿色食品认证申报", "certification", "agri",
        "指导农业企业、合作社申请使用绿色食品标志，组织材料初审和现场检查。",
        ["绿色食品", "绿标", "食品标志"],
        bureau_name="县农业农村局", category_name="认证认可",
    ),
    _svc(
        "RZ-003", "有机产品认证咨询", "certification", "agri",
        "为种植、养殖企业提供有机产品认证政策和流程咨询。",
        ["有机认证", "有机农产品"],
        bureau_name="县农业农村局", category_name="认证认可",
    ),
    _svc(
        "ZL-001", "质量管理体系认证辅导", "quality", "amr",
        "辅导中小企业建立ISO9001质量管理体系并通过第三方认证。",
        ["ISO9001", "质量体系", "体系认证"],
        bureau_name=AMR, category_name="质量管理",
    ),
    _svc(
        "ZL-002", "高新技术企业认定辅导", "quality", "sti",
        "为申报高新技术企业认定的企业提供政策解读与材料辅导。",
        ["高企", "高新认定", "高新技术"],
        materials=["营业执照", "知识产权证明", "研发费用明细"],
        legal_basis="《高新技术企业认定管理办法》",
        popular=True, bureau_name="县科技局", category_name="质量管理",
    ),
    _svc(
        "PP-001", "中华老字号申报", "brand", "commerce",
        "指导具有悠久历史和传统技艺的企业申报中华老字号、湖南老字号。",
        ["老字号", "传统品牌"],
        online=False, bureau_name="县商务局", category_name="品牌培育",
    ),
    _svc(
        "PP-002", "地理标志产品保护申报", "brand", "agri",
        "指导澧县特色农产品申报地理标志产品保护和地理标志证明商标。",
        ["地理标志", "地标产品", "特色农产品"],
        bureau_name="县农业农村局", category_name="品牌培育",
    ),
    _svc(
        "IP-001", "商标注册便利化服务", "ip", "amr",
        "为企业提供商标注册申请指导、商标查询和代理推荐，帮助企业注册商标。",
        ["商标", "注册商标", "商标申请"],
        popular=True, bureau_name=AMR, category_name="知识产权",
    ),
    _svc(
        "IP-002", "专利申请预审", "ip", "amr",
        "对符合条件的发明、实用新型和外观设计专利申请提供预审服务，缩短授权周期。",
        ["专利", "发明专利", "快速预审"],
        bureau_name=AMR, category_name="知识产权",
    ),
    _svc(
        "IP-003", "知识产权质押融资", "ip", "fin",
        "协助企业以专利权、商标权质押向银行申请贷款。",
        ["质押融资", "专利质押", "贷款"],
        online=False, bureau_name="县财政局", category_name="知识产权",
    ),
    _svc(
        "XF-001", "消费投诉举报处理", "quality", "amr",
        "受理消费者关于商品和服务质量的投诉举报。",
        ["投诉", "举报", "12315"],
        bureau_name=AMR, category_name="质量管理",
    ),
]


def codes(result: Any) -> list[str]:
    """The service codes of a SearchResult's hits, in rank order."""
    return [h.code for h in result.hits]


def by_code(code: str) -> dict[str, Any]:
    return next(s for s in SERVICES if s["code"] == code)
