"""What happens in the demo county: the stories every newcomer should find (each status, 补正,
转办, 协办, 督办, 差评 and its follow-up), and the pool the everyday requests are drawn from.

A story is a request and the steps taken on it, each a number of working days after the step
before. services/demo/run.py turns the working days into moments before today and plays every
story's steps in time order through the real services; a step that would fall after now is not
taken, so recent requests are still open.

Actors: a username, or one of the roles below, resolved when the step is played from the bureau
that holds the ticket at that moment (after a transfer, the new bureau's staff act):
"E" the story's enterprise, "H" a handler of the ticket's bureau (its assignee once it has one),
"L" the bureau's lead (the joint office where a bureau has none).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ENTERPRISE, HANDLER, LEAD = "E", "H", "L"

#: Short names for the demo enterprises of services/seed.py DEMO_ENTERPRISES.
LANJIANG = "91430723MA4PQ2B7K9"    # 澧县兰江生物科技有限公司, 化妆品, 澧阳街道 (the first demo account)
COOP = "93430723MA4R8K3N2L"        # 澧县城头山生态农业专业合作社, 农业, 城头山镇 (the second)
PHARMA = "91430723MA4L5T6W83"      # 湖南澧州药业有限公司, 生物医药, 经开区
TEXTILE = "91430723MA4N2H7X5D"     # 澧县澧浦纺织服饰有限公司, 纺织服装, 澧浦街道
HERBS = "91430723MA4K9D3F1D"       # 澧县药山中药材种植有限公司, 中药材, 火连坡镇
FOOD = "91430723MA4M6G8R3X"        # 澧县梦溪食品有限公司, 食品, 梦溪镇
LOGISTICS = "91430723MA4P7J2T6H"   # 澧县兴澧智慧物流有限公司, 物流, 小渡口镇
GREEN = "91430723MA4Q3L5U9Y"       # 澧县绿源新能源科技有限公司, 新能源, 澧西街道
ALL_ENTERPRISES = (LANJIANG, COOP, PHARMA, TEXTILE, HERBS, FOOD, LOGISTICS, GREEN)

#: Who works each bureau's tickets in the demo: (handlers, lead or None).
BUREAU_STAFF: dict[str, tuple[tuple[str, ...], str | None]] = {
    "amr": (("amr-handler", "amr-handler2"), "amr-lead"),
    "agri": (("agri-handler",), "agri-lead"),
    "sti": (("sti-handler",), None),
    "miit": (("miit-handler",), None),
    "commerce": (("commerce-handler",), None),
    "fin": (("fin-handler",), None),
    "joint-office": (("joint-office",), "joint-office"),
}
SUPERVISOR = "joint-office"


@dataclass(frozen=True)
class Step:
    after: int                 # working days after the step before (0: the same day, a little later)
    who: str                   # a username, or ENTERPRISE / HANDLER / LEAD
    verb: str                  # a ticket action (workflow.ACTIONS), or claim, assign, provide_info,
    #                            rate, follow_up, withdraw
    text: str = ""
    arg: Any = None            # transfer/co_handle: bureau code; assign: username; rate: score
    ticket: int = 0            # which of the request's tickets (a bundle has several)
    files: tuple[str, ...] = ()  # PDF attachments (provide_info), by name


@dataclass(frozen=True)
class Story:
    enterprise: str
    back: int                  # submitted this many working days before today
    services: tuple[str, ...] = ()
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    description: str = ""
    bundle: str | None = None
    need: bool = False
    files: tuple[str, ...] = ()
    steps: tuple[Step, ...] = ()


S = Step
H, L, E = HANDLER, LEAD, ENTERPRISE

# --------------------------------------------------------------------------- the stories to find
KEY_STORIES: tuple[Story, ...] = (
    # 补正 asked and not answered yet: the first demo enterprise can answer it.
    Story(LANJIANG, 9, ("JC-004",), {"JC-004": {"product_name": "兰江山茶花保湿精华液", "test_kind": "registration",
                                                  "batch_count": 3}},
          "新品备案前的注册检验，样品三批。", files=("产品技术要求.pdf",),
          steps=(S(1, "amr-handler", "accept"), S(0, "amr-handler", "start"),
                 S(2, "amr-handler", "request_info",
                   "请补充：1. 三批样品的批号和生产日期；2. 产品配方表（加盖公章）；3. 委托检验协议签字页。"))),
    # 补正 answered with a file, then 办结 and rated 5.
    Story(LANJIANG, 32, ("RZ-010",), {"RZ-010": {"product_types": ["skin", "cleansing"], "plant_area": 1200}},
          "新建洁净车间，申请化妆品生产许可前想先请监管局指导。",
          steps=(S(1, "amr-handler", "accept"),
                 S(1, "amr-handler", "request_info", "请补充生产车间平面布局图和洁净区空气洁净度检测报告。"),
                 S(3, E, "provide_info", "已上传车间平面布局图及第三方洁净度检测报告。", files=("车间平面布局图.pdf",)),
                 S(2, "amr-handler", "complete",
                   "已现场指导，车间布局符合《化妆品生产质量管理规范》，可提交许可申请。"),
                 S(1, E, "rate", "指导细致，一次就讲清楚了。", arg=5))),
    # Completed late, 差评, the lead's follow-up, then rated again.
    Story(LANJIANG, 45, ("ZC-001",), {"ZC-001": {"trademark_name": "兰江山茶", "trademark_type": "combined",
                                                   "class_count": 2, "goods": "第3类 化妆品；第5类 药用护肤品"}},
          steps=(S(1, "amr-handler2", "accept"),
                 S(4, "amr-handler2", "complete", "商标注册申请已代为提交，受理通知书已发送至企业邮箱。"),
                 S(1, E, "rate", "超过了承诺的 2 个工作日，中间也没有告知进度。", arg=2),
                 S(2, "amr-lead", "follow_up",
                   "已电话回访企业，说明延误原因（商标局系统升级），并建立办理进度主动告知机制。"),
                 S(1, E, "rate", "回访及时，原因已说明，认可整改。", arg=4))),
    # Completed, not rated yet: the first demo enterprise can rate it.
    Story(LANJIANG, 6, ("JL-005",), {"JL-005": {"instruments": "电子天平 2 台、pH 计 1 台、恒温培养箱 1 台",
                                                  "quantity": 4, "mode": "dropoff"}},
          steps=(S(1, "amr-handler2", "claim"), S(0, "amr-handler2", "accept"),
                 S(3, "amr-handler2", "complete", "4 台器具已校准完毕，校准证书请到窗口领取。"))),
    # Submitted yesterday: waiting to be accepted (签收) in the amr queue.
    Story(LANJIANG, 1, ("BZ-001",), {"BZ-001": {"standard_name": "山茶花籽油护肤霜企业标准",
                                                  "product_category": "cosmetics"}},
          "企业标准准备在平台自我声明公开。"),
    # Sent to amr, transferred by its lead to agri, done there and rated.
    Story(COOP, 28, ("JC-001",), {"JC-001": {"product_name": "城头山有机稻米", "sample_quantity": 3,
                                               "test_items": "镉、铅等重金属含量", "report_purpose": "sales"}},
          "超市进货要求提供第三方检测报告。",
          steps=(S(1, "amr-lead", "transfer", "稻米重金属检测属农产品质量安全检测，转县农业农村局办理。", arg="agri"),
                 S(1, H, "accept"), S(0, H, "start"), S(3, H, "reply", "样品已收到，正在检测，预计 3 个工作日出报告。"),
                 S(3, H, "complete", "检测报告已出具：镉、铅均未检出超标，报告可在线下载。"),
                 S(2, E, "rate", "转办很快，报告也及时。", arg=5))),
    # 补正 asked at agri, not answered: the second demo enterprise can answer it.
    Story(COOP, 7, ("RZ-001",), {"RZ-001": {"product_names": "城头山有机稻米、糯米", "base_area": 800,
                                              "product_category": "crop"}},
          steps=(S(1, "agri-handler", "accept"),
                 S(2, "agri-handler", "request_info", "请补充基地环境质量监测报告和近三年的生产记录。"))),
    # A bundle over two bureaus, both done and rated.
    Story(COOP, 22, bundle="farm-brand",
          attributes={"JC-003": {"product_type": ["rice", "vegetable"], "sample_quantity": 6, "test_type": "quant"},
                      "RZ-001": {"product_names": "城头山香米", "base_area": 500, "product_category": "crop"},
                      "PP-003": {"products": "城头山香米", "request_type": "cultivate"},
                      "ZC-006": {"product": "城头山香米", "apply_type": "gi_mark"}},
          description="合作社想把香米做成区域品牌。",
          steps=(S(1, "agri-handler", "accept"), S(1, "amr-handler", "accept", ticket=1),
                 S(5, "amr-handler", "complete", "地理标志商标申报材料已指导完成，已报送省局。", ticket=1),
                 S(3, "agri-handler", "complete", "检测、绿色食品申报和品牌培育方案均已完成。"),
                 S(1, E, "rate", "一次申请两个部门都办好了。", arg=5), S(0, E, "rate", "", arg=4, ticket=1))),
    # Co-handled by sti, then completed and rated.
    Story(PHARMA, 26, ("JC-005",), {"JC-005": {"product_name": "一次性使用无菌注射针", "product_kind": "device",
                                                 "need": "注册检验机构推荐和送检流程"}},
          steps=(S(1, "amr-handler", "accept"),
                 S(0, "amr-lead", "co_handle", "请县科技局协助对接省内医疗器械检测公共服务平台。", arg="sti"),
                 S(2, "sti-handler", "co_reply", "已联系省医疗器械检验检测公共服务平台，可优先排期，联系人见附页。"),
                 S(1, "amr-handler", "complete", "已推荐两家具备资质的检验机构并告知送检流程。"),
                 S(2, E, "rate", "几个部门一起帮忙，效率很高。", arg=5))),
    # Co-handling asked of miit, its opinion still awaited.
    Story(TEXTILE, 5, ("JC-006",), {"JC-006": {"product_name": "纯棉婴幼儿连体衣", "test_items": ["formaldehyde", "ph"],
                                                 "sample_quantity": 5}},
          steps=(S(1, "amr-handler", "accept"), S(0, "amr-handler", "start"),
                 S(1, "amr-lead", "co_handle", "请县工信局说明纺织产业集群检测费用补贴的申请口径。", arg="miit"))),
    # Accepted long ago and still open: overdue (督办 by the daily check and by the joint office).
    Story(FOOD, 17, ("JL-001",), {"JL-001": {"instrument": "电子计价秤、台秤", "quantity": 12, "mode": "onsite"}},
          steps=(S(1, "amr-handler", "accept"), S(1, "amr-handler", "start"),
                 S(2, "amr-handler", "note", "现场检定已预约，检定员排期到下周。"))),
    Story(LOGISTICS, 15, ("JL-002",), {"JL-002": {"max_capacity": 120, "install_address": "小渡口镇物流园 3 号门",
                                                    "check_type": "periodic"}},
          steps=(S(0, "amr-lead", "assign", arg="amr-handler2"), S(1, "amr-handler2", "accept"),
                 S(12, SUPERVISOR, "supervise", "地磅检定已超期，请本周内完成并反馈。"))),
    # Never accepted: past its acceptance deadline.
    Story(HERBS, 4, ("JC-007",), {"JC-007": {"herb_name": "玉竹", "test_items": ["identity", "moisture", "pesticide"],
                                               "sample_quantity": 4}}, "今年新收的玉竹，客户要求出具检验报告。"),
    # Transferred by the amr lead to miit, waiting there.
    Story(GREEN, 4, ("JL-008",), {"JL-008": {"annual_energy": 3200, "service_type": "efficiency"}},
          "想做一次全厂能效诊断，看看哪些设备该换。",
          steps=(S(1, "amr-lead", "transfer", "能效诊断与节能改造属绿色制造范畴，转县工信局办理。", arg="miit"),)),
    # 不予受理.
    Story(LOGISTICS, 25, ("ZL-013",), {"ZL-013": {"equipment_type": "crane", "equipment_count": 2,
                                                    "product_no": "QZ-2026-0318", "commission_date": "2026-06-01"}},
          steps=(S(1, "amr-handler", "reject", "所附设备出厂编号与监督检验证书不一致，请核对后重新申请。"),)),
    # Withdrawn by the enterprise.
    Story(GREEN, 18, ("ZC-012",), {"ZC-012": {"applicant_type": "company"}},
          steps=(S(0, E, "withdraw", "已自行在国家知识产权局网站办理。"),)),
    # Returned to the joint office by fin, waiting for its triage.
    Story(FOOD, 10, ("ZL-015",), {"ZL-015": {"award_item": "standard", "amount": 50000,
                                               "approval_doc": "澧质强办〔2026〕12号"}},
          steps=(S(1, "fin-handler", "return", "奖补兑付需先由县市场监管局出具认定意见，请联席办协调。"),)),
    # 我有需求: one triaged to amr and done, one still at the joint office.
    Story(TEXTILE, 20, need=True,
          description="我们的童装要进一家大型商超，对方要求提供产品质量检验报告，不知道该找哪里做。",
          steps=(S(1, SUPERVISOR, "transfer", "属产品质量委托检验，转县市场监管局办理。", arg="amr"),
                 S(1, H, "accept"), S(3, H, "complete", "已指导企业按 JC-006 纺织服装产品质量检验送样。"),
                 S(1, E, "rate", "", arg=4))),
    Story(TEXTILE, 2, need=True,
          description="我们想出口一批纯棉童装到东盟，需要做哪些检测和认证？能否有人上门指导？"),
    # A bundle over two bureaus: sti done, amr still working.
    Story(PHARMA, 12, bundle="high-tech",
          attributes={"ZL-002": {"employees": 86, "revenue": 4200},
                      "ZL-001": {"tech_field": "biomed", "ip_count": 9, "rd_ratio": 5.2},
                      "ZC-002": {"patent_type": "invention", "tech_field": "缓释制剂"},
                      "ZC-007": {"contract_type": "development", "amount": 60, "sign_date": "2026-09-15"}},
          steps=(S(1, "sti-handler", "accept"), S(1, "amr-handler", "accept", ticket=1),
                 S(4, "sti-handler", "complete", "已完成科技型中小企业入库评价和高企认定辅导。"),
                 S(1, "amr-handler", "reply", "专利预审材料已收到，正在与省保护中心沟通。", ticket=1))),
    # 差评 waiting for the agri lead's follow-up.
    Story(HERBS, 14, ("ZL-019",), {"ZL-019": {"herb_names": "玉竹、黄精", "area_mu": 300}},
          steps=(S(1, "agri-handler", "accept"),
                 S(4, "agri-handler", "complete", "已派专家现场指导，GAP 基地建设要点见指导记录。"),
                 S(1, E, "rate", "专家只来了半天，很多问题没讲到。", arg=2))),
    # 差评 waiting for the amr lead's follow-up.
    Story(FOOD, 11, ("RZ-006",), {"RZ-006": {"food_categories": ["condiment", "meat"], "apply_type": "change",
                                               "site_address": "梦溪镇工业小区 6 号"}},
          "新增肉制品生产线，申请变更食品生产许可。",
          steps=(S(1, "amr-handler", "accept"),
                 S(1, "amr-handler", "request_info", "请补充新增生产线的设备布局图和工艺流程图。"),
                 S(2, E, "provide_info", "已补充设备布局图和工艺流程图。", files=("设备布局图.pdf",)),
                 S(2, "amr-handler", "request_info", "请再补充肉制品原料的供应商资质。"),
                 S(1, E, "provide_info", "已补充供应商营业执照和动物检疫证明。", files=("供应商资质.pdf",)),
                 S(2, "amr-handler", "complete", "食品生产许可变更已办结，新证已发放。"),
                 S(1, E, "rate", "补正要求分两次提出，多跑了一趟。", arg=1))),
)

# --------------------------------------------------------------------------- the everyday pool
@dataclass(frozen=True)
class Kind:
    """A request enterprises make often: what they fill in, what the bureau answers."""

    code: str
    attributes: dict[str, Any]
    description: str
    done: str                  # the 办结 message
    info: str = ""             # a 补正 the bureau may ask for
    industries: tuple[str, ...] = ()  # who asks it (empty: anyone)


POOL: tuple[Kind, ...] = (
    Kind("JL-001", {"instrument": "电子台秤", "quantity": 6, "mode": "onsite"}, "年度周期检定。",
         "6 台电子台秤检定合格，已粘贴合格标志。", "请补充器具的出厂编号清单。"),
    Kind("JL-002", {"max_capacity": 100, "install_address": "厂区北门地磅房", "check_type": "periodic"}, "",
         "地磅检定合格，检定证书已出具。"),
    Kind("JL-003", {"station_name": "澧州加油站", "nozzle_count": 8}, "", "8 支加油枪检定合格。",
         industries=("logistics", "green")),
    Kind("JL-005", {"instruments": "压力表 10 只", "quantity": 10, "mode": "dropoff"}, "",
         "10 只压力表校准完成，证书已出具。"),
    Kind("JL-007", {"product_names": "真空包装腊肉、剁辣椒", "product_types": ["food"]}, "",
         "已指导完成定量包装商品计量保证能力自我声明。", industries=("food", "A")),
    Kind("BZ-001", {"standard_name": "企业产品标准", "product_category": "food"}, "",
         "企业标准已在平台自我声明公开。", "请补充标准文本的编制说明。", industries=("food", "herbs")),
    Kind("BZ-003", {"employees": 120, "target_level": "aaa"}, "", "已完成标准化良好行为企业创建辅导。",
         industries=("textile", "biomedicine", "green")),
    Kind("BZ-009", {"apply_type": "new", "product_count": 12}, "", "商品条码注册指导完成，企业已取得厂商识别代码。"),
    Kind("JC-001", {"product_name": "样品", "sample_quantity": 2, "test_items": "全项检验",
                    "report_purpose": "sales"}, "", "检验报告已出具，可在线下载。", "请补充样品的执行标准编号。"),
    Kind("JC-003", {"product_type": ["vegetable"], "sample_quantity": 5, "test_type": "rapid"}, "",
         "快检结果合格，检测单已发送。", industries=("A", "food")),
    Kind("JC-004", {"product_name": "保湿面霜", "test_kind": "release", "batch_count": 2}, "", "出厂检验报告已出具。",
         "请补充产品的全成分表。", industries=("cosmetics",)),
    Kind("JC-006", {"product_name": "针织T恤", "test_items": ["fiber", "colorfast"], "sample_quantity": 3}, "",
         "纤维含量和色牢度检验合格。", industries=("textile",)),
    Kind("JC-007", {"herb_name": "黄精", "test_items": ["identity", "content"], "sample_quantity": 3}, "",
         "中药材检验报告已出具。", industries=("herbs", "biomedicine")),
    Kind("JC-009", {"equipment_type": "vessel", "quantity": 2, "due_date": "2026-12-30"}, "",
         "压力容器定期检验已完成，检验报告已出具。", "请补充压力容器使用登记证编号。"),
    Kind("RZ-005", {"systems": ["iso9001"], "employees": 80}, "", "已完成 ISO 9001 体系文件辅导和内审员培训。"),
    Kind("RZ-006", {"food_categories": ["condiment"], "apply_type": "renew", "site_address": "梦溪镇工业小区"}, "",
         "食品生产许可延续已办结，新证已发放。", "请补充近一年的出厂检验记录。", industries=("food",)),
    Kind("RZ-007", {"business_type": ["sale"], "apply_type": "new", "site_address": "澧阳街道解放路"}, "",
         "食品经营许可已办结。", industries=("food", "logistics")),
    Kind("ZL-002", {"employees": 45, "revenue": 1800}, "", "已入库科技型中小企业。",
         industries=("biomedicine", "green", "cosmetics")),
    Kind("ZL-005", {"problem": "产品批次间质量不稳定，返工率偏高。", "help_types": ["testing", "metrology"]}, "",
         "专家组已上门诊断，质量攻关建议书已送达。"),
    Kind("ZL-009", {"project_name": "生产线智能化改造", "investment": 800, "project_type": "smart"}, "",
         "技改项目已通过县级初审并推荐上报。", "请补充项目可行性研究报告。",
         industries=("textile", "green", "biomedicine")),
    Kind("ZL-012", {"target": "srdi", "revenue": 6500}, "", "专精特新申报材料已审核并推荐至市工信局。",
         industries=("biomedicine", "textile", "green")),
    Kind("PP-006", {"products": "竹制品、茶油", "markets": ["asean"]}, "", "已对接两家跨境电商平台和海外仓服务商。",
         industries=("logistics", "herbs", "food")),
    Kind("PP-009", {"products": "澧县葡萄、土鸡蛋", "needs": ["training", "event"]}, "",
         "已安排直播电商培训和农产品展销。", industries=("A", "food")),
    Kind("RZ-002", {"products": "富硒茶叶", "stage": "conversion"}, "", "已讲解有机转换期管理要求并推荐认证机构。",
         industries=("A", "herbs")),
    Kind("PP-003", {"products": "澧县葡萄", "request_type": "authorize"}, "", "区域公用品牌授权使用已办结。",
         industries=("A", "food", "herbs")),
    Kind("ZL-019", {"herb_names": "白芍", "area_mu": 120}, "", "已派专家现场指导规范化种植。",
         industries=("herbs", "A")),
    Kind("ZC-008", {"tech_need": "缓释包衣工艺放大生产", "partner_type": ["joint_rd", "consult"]}, "",
         "已对接两所高校的研究团队。", industries=("biomedicine", "cosmetics", "green")),
    Kind("ZL-010", {"target_level": "province", "annual_energy": 2600}, "", "绿色工厂创建申报材料已审核推荐。",
         industries=("green", "textile", "food")),
    Kind("PP-002", {"brand_name": "梦溪酱菜", "founded_year": 1956}, "", "湖南老字号申报材料已审核并上报。",
         industries=("food",)),
    Kind("ZL-015", {"award_item": "brand", "amount": 30000, "approval_doc": "澧质强办〔2026〕8号"}, "",
         "奖补资金已拨付至企业账户。", "请补充企业开户银行信息和收款确认书。"),
    Kind("ZC-001", {"trademark_name": "澧兰", "trademark_type": "word", "class_count": 1}, "",
         "商标注册申请已提交，受理通知书已发送。"),
    Kind("ZC-003", {"ip_type": ["patent"], "amount": 300, "ip_count": 3}, "", "已对接两家银行，质押融资意向已达成。",
         industries=("biomedicine", "green", "textile")),
    Kind("ZC-007", {"contract_type": "transfer", "amount": 25, "sign_date": "2026-08-20"}, "", "技术合同已认定登记。",
         industries=("biomedicine", "green")),
)

REPLIES = ("已安排技术人员与企业联系，预计下周上门。", "材料已收到，正在审核。", "样品已收到，正在检测中。",
           "已与企业电话沟通办理进度。")
ACCEPT_NOTES = ("", "", "", "材料齐全，予以受理。")
COMMENTS = {5: ("办事效率高，服务热情。", "全程网上办，不用跑腿。", "", ""),
            4: ("总体满意，等待时间稍长。", ""),
            3: ("能办成，但沟通不够及时。", ""),
            2: ("办理时间太长，中间没有人告知进度。",),
            1: ("多次补材料，每次要求不一样。",)}
FOLLOW_UPS = ("已电话回访，说明了原因，并改进进度告知。", "已约谈经办人员，整改一次性告知制度。")
