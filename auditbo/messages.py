"""Chinese wording of the domain's validation messages, for the web pages.

Services and the API speak English (integrators read it, and one wording per rule
keeps tests exact). A page in Chinese shows each message through :func:`localise`,
which matches it against the patterns below; an unknown message is shown as it is.
"""

from __future__ import annotations

import re

from flask_babel import get_locale

PATTERNS: list[tuple[re.Pattern, str]] = [(re.compile(p), zh) for p, zh in [
    (r"^is required$", "必填"),
    (r"^check character is (\S+), expected (\S+)$", r"校验码为 \1,应为 \2"),
    (r"^must be 18 characters, got (\d+)$", r"应为 18 位,实为 \1 位"),
    (r"^contains characters not allowed in a credit code: (.+)$", r"含有统一社会信用代码不允许的字符:\1"),
    (r"^characters 3-8 are not a valid region code$", "第 3-8 位不是有效的行政区划代码"),
    (r"^must be 6 digits$", "应为 6 位数字"),
    (r"^(\d\d) is not a province code$", r"\1 不是省级行政区划代码"),
    (r"^must be a section letter A-T optionally followed by 2-4 digits$", "应为门类字母 A-T,可后接 2-4 位数字"),
    (r"^division (\d\d) does not belong to section (\w)$", r"大类 \1 不属于门类 \2"),
    (r"^a (\w+) enterprise has (.+) employees, not (\d+)$", r"\1 规模企业的员工人数应为 \2,而非 \3"),
    (r"^no capability may exceed CL(\d) for grade (\w+)$", r"\2 级评定的新型能力等级不得超过 CL\1"),
    (r"^the highest capability level must be CL(\d) for grade (\w+)$", r"\2 级评定的最高新型能力等级应为 CL\1"),
    (r"^a capability is named twice$", "新型能力名称重复"),
    (r"^name between 1 and 30 capabilities$", "请填写 1 至 30 项新型能力"),
    (r"^name between 1 and 30 team members, one of them the lead$", "请填写 1 至 30 名评定组成员,其中一名为组长"),
    (r"^must not be before onsite_start$", "不得早于现场评定开始日期"),
    (r"^must not be before onsite_end$", "不得早于现场评定结束日期"),
    (r"^must not be in the future$", "不得晚于今天"),
    (r"^must be after the decision date and at most (\S+)$", r"应晚于评定决定日期,且不晚于 \1"),
    (r"^needs exactly one lead, found (\d+)$", r"须有且仅有一名组长,现有 \1 名"),
    (r"^(\S+) is listed twice$", r"\1 重复"),
    (r"^(\S+) is not a registered assessor$", r"\1 不是已登记的评定人员"),
    (r"^(\S+) is not an assessor of the filing body$", r"\1 不是本机构的评定人员"),
    (r"^(\S+): is suspended in the registry$", r"\1:在名录中已被暂停"),
    (r"^(\S+): is revoked in the registry$", r"\1:在名录中已被撤销"),
    (r"^(\S+): qualification expired on (\S+)$", r"\1:资格已于 \2 到期"),
    (r"^(\S+): a (\w+) may not lead grade (\w+)$", r"\1:\2 资格不能担任 \3 级评定的组长"),
    (r"^(\S+) is not a registered consulting body$", r"\1 不是已登记的咨询机构"),
    (r"^the consulting body is (\w+)$", r"该咨询机构状态为 \1"),
    (r"^(\S+) is not a consultant of that body$", r"\1 不是该咨询机构的咨询师"),
    (r"^person-days below the minimum of (\S+) need a justification$", r"人日数低于最低要求 \1,须说明理由"),
    (r"^(\S+) is below the minimum of (\S+) by more than (\S+) \(at least (\S+)\)$",
     r"\1 低于最低人日 \2 超过 \3(至少应为 \4)"),
    (r"^(\S+) is already used by another assessment$", r"证书编号 \1 已被其他评定记录使用"),
    (r"^Not a valid (date|number|integer)\.?$", "格式不正确"),
    (r"^a withdrawal needs a reason$", "撤回须说明原因"),
    (r"^an amendment needs a reason$", "修改须说明原因"),
    (r"^name at least one field to change$", "请至少修改一项内容"),
    (r"^the amendment changes nothing$", "修改前后内容相同"),
    (r"^has no data rows: fill in at least one row under the header$", "只有表头,没有数据行:请在表头下至少填写一行"),
    (r"^the file has no data rows; nothing was filed$", "文件没有数据行,未报送任何记录"),
    (r"^(\d+) row\(s\) are invalid; nothing was filed$", r"\1 行有误,未报送任何记录"),
    # imports (filings and the registry)
    (r"^(\d+) of (\d+) rows are invalid; nothing was imported$", r"共 \2 行,其中 \1 行有误,未导入任何内容"),
    (r"^formulas are not accepted$", "不接受公式"),
    (r"^starts with (.+?): cells that start with = \+ - @ are refused as formula injection$",
     r"以 \1 开头:以 = + - @ 开头的单元格可能是公式注入,不予接受"),
    (r"^holds a value but has no header$", "有值但没有表头"),
    (r"^the file has more than (\d+) columns; the template has (\d+)$", r"文件超过 \1 列(模板为 \2 列)"),
    (r"^the header has more than (\d+) columns; expected (.+)$", r"表头超过 \1 列;应为 \2"),
    # marshmallow's own wording (the API's schemas), as a form shows it
    (r"^Length must be between (\d+) and (\d+)\.$", r"长度应为 \1 至 \2 个字符"),
    (r"^Longer than maximum length (\d+)\.$", r"不得超过 \1 个字符"),
    (r"^Shorter than minimum length (\d+)\.$", r"不得少于 \1 个字符"),
    (r"^Must be one of: (.+)\.$", r"应为以下之一:\1"),
    (r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$", r"应在 \1 至 \2 之间"),
    (r"^Must be greater than or equal to (\S+)\.$", r"不得小于 \1"),
    (r"^Must be less than or equal to (\S+)\.$", r"不得大于 \1"),
    (r"^Missing data for required field\.$", "必填"),
    (r"^Field may not be null\.$", "必填"),
    (r"^Not a valid (string|list|boolean|mapping type)\.$", "格式不正确"),
    (r"^Unknown field\.$", "不认识的字段"),
    (r"^String does not match expected pattern\.$", "格式不正确"),
    # refusals shown on error pages (403/404)
    (r"^no such ([a-z -]+?)( among yours)?$", "没有这条记录"),
    (r"^no certificate with that number$", "没有这个编号的证书"),
    (r"^you may not do this$", "您无权进行此操作"),
    (r"^your account belongs to no assessment body$", "您的账号不属于任何评定机构"),
    (r"^only the assigned reviewer may .+$", "只有被指派的审核人可以进行此操作"),
    (r"^you are recused from this assessment's parties; an administrator must reassign it$",
     "您须回避该评定的相关方,请管理员重新指派"),
    (r"^four eyes: .+$", "四眼原则:须由另一人完成此步骤"),
    (r"^the plan's author cannot approve it: another person must$", "抽查方案的制定人不能批准自己的方案"),
    (r"^CSRF token missing or invalid$", "表单已过期,请刷新页面后重试"),
]]
_CHINESE = re.compile(r"[\u4e00-\u9fff]")
FIELD_NAMES = {"external_ref": "本机构编号", "certificate_no": "证书编号", "enterprise": "企业", "team": "评定组",
               "capabilities": "新型能力", "person_days": "人日数", "decision_date": "评定决定日期",
               "consulting_body": "咨询机构", "onsite_start": "现场评定开始日期", "onsite_end": "现场评定结束日期",
               "valid_until": "证书有效期至", "assessment_type": "评定类型", "grade": "评定等级", "file": "文件",
               "reduction_reason": "减少人日理由", "body": "本机构", "reason": "原因"}
SUBFIELD_NAMES = {"person_id": "人员编号", "role": "角色", "name": "名称", "level": "等级", "credit_code": "统一社会信用代码",
                  "region_code": "行政区划代码", "industry_code": "行业代码", "size": "企业规模", "employees": "员工人数",
                  "consultant_ids": "咨询师编号"}


def field_name(path: str) -> str:
    """A field's path as a Chinese page names it ('team[1].person_id' -> '评定组第 2 行 person_id')."""
    locale = get_locale()
    if locale is None or locale.language != "zh":
        return path
    head, _, rest = path.partition(".")
    m = re.match(r"^(\w+)\[(\d+)\]$", head)
    if m:
        name = f"{FIELD_NAMES.get(m.group(1), m.group(1))}第 {int(m.group(2)) + 1} 行"
    else:
        name = FIELD_NAMES.get(head, head)
    return f"{name} {SUBFIELD_NAMES.get(rest, rest)}".strip() if rest else name


def translated(message: str) -> str | None:
    """The message in the page's language, or None when a Chinese page has no wording for it."""
    locale = get_locale()
    if locale is None or locale.language != "zh" or _CHINESE.search(message):
        return message  # already in the page's language (a message that went through gettext)
    for pattern, zh in PATTERNS:
        if pattern.match(message):
            return pattern.sub(zh, message)
    return None


def localise(message: str) -> str:
    locale = get_locale()
    if locale is None or locale.language != "zh":
        return message
    for pattern, zh in PATTERNS:
        if pattern.match(message):
            return pattern.sub(zh, message)
    return message
