"""What exports call each field: the header words of Chinese and English CRM exports, sales workbooks,
sign-up forms and address books, per entity. ``init`` compares them after folding case, spacing,
punctuation, bracketed remarks (必填) and traditional characters, so 客戶名稱, 客户名称（必填） and
``Account_Name`` read as the same header.

The lists are the names such files use (Fxiaoke/纷享销客, 销售易, Salesforce, HubSpot and Dynamics export
headers, the columns salespeople type); a header in two lists is decided by the entities the file holds.
"""

from __future__ import annotations

from crm_migrate.mappings.entities import Entity

ACCOUNT_NAME = (
    "客户名称", "公司名称", "公司", "单位名称", "单位", "企业名称", "企业", "客户", "客户名", "公司名", "客户全称",
    "公司全称", "企业全称", "机构名称", "机构", "组织名称", "组织", "工作单位", "所在单位", "所在公司", "就职公司",
    "任职公司", "所属公司", "所属客户", "关联客户", "客户公司", "所属单位", "单位全称", "公司/单位", "单位/公司",
    "company", "companyname", "accountname", "account", "organization", "organisation", "organizationname",
    "org", "customer", "customername", "client", "clientname", "businessname", "employer", "firm",
    "associatedcompany", "parentcustomer", "companyaccount")
PERSON_NAME = ("联系人", "姓名", "联系人姓名", "联系人名称", "客户姓名", "名字", "参会人", "参会人姓名", "报名人",
               "报名人姓名", "学员姓名", "人员姓名", "name", "contact", "contactname", "fullname", "fn",
               "attendee", "attendeename", "person", "personname")
OPPORTUNITY_NAME = ("商机名称", "商机", "商机标题", "机会名称", "销售机会", "销售机会名称", "项目名称", "opportunity",
                    "opportunityname", "dealname", "deal", "topic")
ACTIVITY_CONTENT = ("跟进内容", "跟进记录", "拜访记录", "拜访内容", "沟通内容", "沟通记录", "内容", "记录内容",
                    "跟进详情", "活动内容", "content", "activity", "activitynotes", "comments", "taskdescription")
# The account's legacy id as a child row names it: a link, not the child's own id.
ACCOUNT_REF = ("客户编号", "客户id", "客户代码", "客户编码", "客户号", "所属客户编号", "所属客户id", "所属客户代码",
               "关联客户编号", "关联客户id", "公司编号", "公司id", "单位编号", "accountid", "accountnumber",
               "customerid", "customernumber", "customerno", "companyid", "associatedcompanyid", "parentcustomerid",
               "accountcode", "客户账号", "associatedcompanyids", "companyids", "客户账户编号")
ACCOUNT_ID = ("客户编号", "客户id", "客户代码", "客户编码", "客户号", "公司编号", "公司id", "单位编号", "accountid",
              "accountnumber", "customerid", "customernumber", "customerno", "companyid", "accountcode")
OWNER = ("负责人", "销售", "销售负责人", "客户经理", "业务员", "销售代表", "所属销售", "归属人", "销售人员", "跟进销售",
         "对接人", "owner", "accountowner", "contactowner", "opportunityowner", "dealowner", "salesrep",
         "salesperson", "recordowner", "ownername", "assignedto")
CREATED = ("创建时间", "创建日期", "录入时间", "录入日期", "建档日期", "建档时间", "添加时间", "添加日期", "新建时间",
           "created", "createdat", "createddate", "createdate", "createdon", "datecreated", "creationdate")
NOTE = ("备注", "说明", "描述", "简介", "备注信息", "note", "notes", "remark", "remarks", "description", "comment")
EMAIL = ("邮箱", "电子邮件", "邮件", "电子邮箱", "邮件地址", "邮箱地址", "email", "mail", "emailaddress",
         "primaryemail", "emailaddress1")

HEADERS: dict[Entity, dict[str, tuple[str, ...]]] = {
    Entity.accounts: {
        "name": ACCOUNT_NAME,
        "name_en": ("英文名称", "英文名", "公司英文名称", "客户英文名称", "englishname", "nameen"),
        "short_name": ("简称", "客户简称", "公司简称", "企业简称", "shortname", "abbreviation"),
        "uscc": ("统一社会信用代码", "信用代码", "社会信用代码", "统一信用代码", "税号", "纳税人识别号", "营业执照号",
                 "营业执照号码", "工商注册号", "uscc", "creditcode", "taxid", "taxnumber", "vatnumber"),
        "id": ACCOUNT_ID,
        "phone": ("电话", "公司电话", "座机", "总机", "办公电话", "固话", "固定电话", "联系电话", "单位电话", "企业电话",
                  "电话号码", "phone", "tel", "telephone", "mainphone", "companyphone", "officephone",
                  "phonenumber", "businessphone", "telephone1"),
        "email": EMAIL,
        "website": ("网址", "网站", "官网", "公司网址", "公司网站", "主页", "website", "url", "web", "homepage",
                    "websiteurl", "companydomainname", "domain"),
        "address": ("地址", "公司地址", "详细地址", "注册地址", "办公地址", "经营地址", "通讯地址", "联系地址", "单位地址",
                    "address", "billingaddress", "companyaddress", "streetaddress", "address1"),
        "industry": ("行业", "所属行业", "行业类别", "行业分类", "行业类型", "industry", "sector"),
        "level": ("客户级别", "级别", "等级", "客户等级", "客户分级", "重要程度", "level", "rating", "tier",
                  "accountrating", "customerlevel"),
        "status": ("状态", "客户状态", "合作状态", "status", "accountstatus", "customerstatus"),
        "lead_source": ("来源", "客户来源", "线索来源", "获客渠道", "渠道", "来源渠道", "leadsource", "source",
                        "accountsource", "originalsource"),
        "owner": OWNER,
        "created_at": CREATED,
        "last_activity_at": ("最近跟进时间", "最后跟进时间", "最近跟进", "最近跟进日期", "最后跟进日期", "最后联系时间",
                             "最近联系时间", "最近活动时间", "lastactivity", "lastactivitydate", "lastcontacted",
                             "lastactivityat"),
        "note": NOTE,
    },
    Entity.contacts: {
        "name": PERSON_NAME,
        "id": ("联系人编号", "联系人id", "联系人代码", "联系人编码", "contactid", "contactnumber", "personid"),
        "account_id": ACCOUNT_REF,
        "mobile": ("手机", "手机号", "手机号码", "联系电话", "移动电话", "联系手机", "手机(必填)", "mobile", "mobilephone",
                   "cell", "cellphone", "mobilenumber", "mobilephonenumber", "tel.cell", "telcell"),
        "phone": ("电话", "办公电话", "座机", "固话", "固定电话", "工作电话", "公司电话", "电话号码", "phone", "tel",
                  "telephone", "officephone", "workphone", "businessphone", "phonenumber", "directline",
                  "tel.work", "telwork", "telephone1"),
        "email": EMAIL,
        "title": ("职务", "职位", "岗位", "头衔", "职称", "职务/职位", "title", "jobtitle", "position", "role"),
        "department": ("部门", "所在部门", "科室", "所属部门", "department", "dept", "org.unit", "orgunit"),
        "id_card": ("身份证", "身份证号", "身份证号码", "证件号", "证件号码", "身份证件号", "idcard", "idnumber",
                    "idcardnumber", "nationalid"),
        "birthday": ("生日", "出生日期", "出生年月", "出生年月日", "birthday", "birthdate", "dateofbirth", "dob",
                     "bday"),
        "gender": ("性别", "gender", "sex"),
        "wechat": ("微信", "微信号", "wechat", "wechatid", "weixin"),
        "address": ("地址", "联系地址", "家庭地址", "通讯地址", "住址", "address", "mailingaddress", "adr",
                    "homeaddress"),
        "owner": OWNER,
        "created_at": CREATED,
        "note": NOTE,
    },
    Entity.opportunities: {
        "name": OPPORTUNITY_NAME,
        "id": ("商机编号", "商机id", "商机代码", "机会编号", "机会id", "项目编号", "opportunityid", "dealid",
               "opportunitynumber"),
        "account_id": ACCOUNT_REF,
        "amount": ("金额", "商机金额", "预计金额", "预计销售金额", "合同金额", "成交金额", "预算", "预算金额", "amount",
                   "dealamount", "opportunityamount", "value", "estimatedrevenue", "estimatedvalue"),
        "stage": ("阶段", "销售阶段", "商机阶段", "当前阶段", "stage", "stagename", "dealstage", "salesstage",
                  "pipelinestage"),
        "close_date": ("预计成交日期", "成交日期", "预计成交", "预计成交时间", "预计签单日期", "结单日期", "预计结单日期",
                       "签单日期", "closedate", "expectedclosedate", "estimatedclosedate", "estclosedate"),
        "owner": OWNER,
        "created_at": CREATED,
        "note": NOTE,
    },
    Entity.activities: {
        "content": ACTIVITY_CONTENT,
        "id": ("记录编号", "跟进编号", "跟进记录编号", "活动编号", "拜访编号", "记录id", "activityid", "taskid",
               "eventid"),
        "account_id": ACCOUNT_REF,
        "type": ("跟进方式", "跟进类型", "方式", "拜访方式", "沟通方式", "活动类型", "type", "activitytype",
                 "tasktype", "tasksubtype"),
        "occurred_at": ("跟进时间", "跟进日期", "拜访时间", "拜访日期", "沟通时间", "沟通日期", "联系时间", "日期",
                        "时间", "date", "occurredat", "activitydate", "duedate", "startdate"),
        "subject": ("主题", "标题", "跟进主题", "subject"),
        "owner": (*OWNER, "跟进人", "拜访人", "记录人"),
        "note": ("备注", "note", "remark"),
    },
}
# Headers that name the main record's own id, whatever the entity (HubSpot's Record ID, a sheet's 编号).
OWN_ID = ("id", "recordid", "编号", "记录id", "系统编号", "系统id")
# Parts of an address in columns of their own, largest first.
ADDRESS_PARTS = {
    "province": ("省", "省份", "所在省", "所在省份", "省/直辖市", "省市", "state", "province", "stateprovince",
                 "billingstate", "billingstateprovince", "mailingstate", "mailingstateprovince", "region",
                 "stateregion", "address1stateprovince", "address1state"),
    "city": ("市", "城市", "所在城市", "所在地市", "地市", "city", "billingcity", "mailingcity", "address1city"),
    "district": ("区", "区县", "县区", "区/县", "所在区县", "district", "county", "address1county"),
    "street": ("详细地址", "街道地址", "街道", "门牌", "street", "billingstreet", "mailingstreet", "streetaddress",
               "address1street1", "addressline1"),
}
FIRST_NAME = ("名", "firstname", "givenname", "n.given", "ngiven")
LAST_NAME = ("姓", "姓氏", "lastname", "surname", "familyname", "n.family", "nfamily")
# Words of an event in a person's dealings (a visit, a sign-up, a follow-up): a date under such a header is
# when that happened, never a birthday nor the day a company was founded or entered.
EVENT_WORDS = ("报名", "签到", "参会", "活动", "拜访", "跟进", "沟通", "联系", "访问", "到访", "注册", "登记",
               "visit", "signup", "signedup", "registration", "registered", "register", "checkin", "attend",
               "event", "meeting", "followup", "contacted", "webinar")
SIGN_UP_WORDS = ("报名", "签到", "参会", "注册", "登记", "signup", "signedup", "registration", "registered",
                 "register", "checkin", "attend")
EVENT_NAME = ("活动名称", "活动", "会议名称", "活动主题", "参加活动", "event", "eventname", "campaign",
              "campaignname", "webinar")
# Header words that say what a date column is when only its values were recognised.
DATE_WORDS = {
    (Entity.contacts, "birthday"): ("生日", "出生", "birth", "dob"),
    (Entity.accounts, "created_at"): ("创建", "录入", "建档", "成立", "created", "since"),
    (Entity.opportunities, "close_date"): ("成交", "签单", "结单", "close"),
    (Entity.accounts, "last_activity_at"): ("最近", "最后", "last"),
}
# Words of someone other than the record's own person: a mobile under 负责人手机 or 紧急联系人 is not the
# contact's, an ID number under 法人身份证 not theirs either.
OTHER_PERSON = ("负责人", "销售", "业务员", "客户经理", "推荐", "介绍", "紧急", "担保", "法人", "法定代表", "助理", "秘书",
                "家属", "配偶", "owner", "salesrep", "referr", "emergency", "assistant", "spouse", "legalrep")
# Never mapped: a row number, a checkbox, the export's own bookkeeping.
NEVER = ("序号", "行号", "no", "no.", "#", "选择", "操作", "rownumber", "index")

# Picklist values that mean the same thing in different words (stage names of Chinese and English CRMs,
# activity kinds, genders, statuses): a source value and a target value in one group are one value.
CONCEPTS: tuple[tuple[str, ...], ...] = (
    ("初步接洽", "初步沟通", "初步接触", "接洽", "线索", "潜在客户", "初步意向", "prospecting", "prospect", "initialcontact",
     "new", "appointmentscheduled", "lead"),
    ("需求确认", "需求分析", "需求调研", "确认需求", "qualification", "qualified", "needsanalysis", "qualifiedtobuy",
     "discovery"),
    ("方案报价", "报价", "方案", "提交方案", "方案制定", "报价中", "proposal", "proposalpricequote", "quote",
     "valueproposition", "presentationscheduled", "pricequote"),
    ("商务谈判", "谈判", "合同谈判", "商务洽谈", "谈判审核", "negotiation", "negotiationreview", "contractsent",
     "decisionmakerboughtin", "iddecisionmakers"),
    ("赢单", "成交", "已成交", "签约", "已签约", "赢得", "closedwon", "won", "win"),
    ("输单", "丢单", "失败", "已丢单", "流失", "closedlost", "lost", "loss"),
    ("电话", "电话沟通", "致电", "打电话", "call", "phone", "phonecall", "telephone"),
    ("拜访", "上门", "上门拜访", "面访", "实地拜访", "visit", "onsitevisit", "fieldvisit"),
    ("会议", "开会", "会谈", "meeting", "conference"),
    ("微信", "微信沟通", "wechat", "weixin"),
    ("邮件", "电子邮件", "邮箱", "email", "e-mail", "mail"),
    ("男", "男性", "先生", "male", "m", "man", "mr"),
    ("女", "女性", "女士", "小姐", "female", "f", "woman", "ms", "mrs"),
    ("有效", "正常", "启用", "活跃", "active", "valid", "enabled"),
    ("无效", "停用", "失效", "作废", "注销", "inactive", "invalid", "disabled"),
)
