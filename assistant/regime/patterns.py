"""How users state the regime facts, in English and Chinese: an ordered table of patterns.

Each ``Pattern`` gives a fact its ``value`` when it matches, or its ``negated`` value when a negation ("no",
"don't", "没有", "不"...) precedes it in the same clause (``None``: the match is then ignored). Earlier
patterns win: a span matched once is not matched again, so specific phrasings ("hosted in Shanghai",
"medical device", "free of charge") come before general ones ("Shanghai", "medical", "charge"). Strength 2
is an explicit statement, 1 a hint that an explicit statement overrides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Pattern:
    fact: str
    value: str | None
    regex: re.Pattern[str]
    negated: str | None = None
    strength: int = 2
    negated_strength: int = 1


def _p(fact: str, value: str | None, regex: str, negated: str | None = None, strength: int = 2,
       negated_strength: int = 1) -> Pattern:
    return Pattern(fact, value, re.compile(regex, re.IGNORECASE), negated, strength, negated_strength)


def _w(words: str) -> str:
    """English alternatives as whole words (no letter may touch either end)."""
    return rf"(?<![A-Za-z])(?:{words})(?![A-Za-z])"


# --- places -------------------------------------------------------------------------------------------------
MAINLAND_EN = (r"mainland(?:\s+china)?|china|the\s+PRC|PRC|beijing|shanghai|shenzhen|guangzhou|hangzhou|chengdu|"
               r"nanjing|wuhan|tianjin|chongqing|qingdao|zhangjiakou|ningxia|guizhou|hainan")
HK_EN = r"hong\s*kong|HK|macao|macau|taiwan"
ABROAD_EN = (r"outside(?:\s+of)?(?:\s+mainland)?\s+china|overseas|abroad|offshore|singapore|japan|tokyo|korea|seoul|"
             r"(?-i:US|USA|U\.S\.|UK|EU)|the\s+(?-i:US|USA|UK|EU)|united\s+states|america|europe|germany|frankfurt|"
             r"london|ireland|virginia|oregon|california|ohio|canada|australia|sydney|india|the\s+netherlands|amsterdam|"
             r"france|paris|silicon\s+valley|los\s+angeles|(?-i:LA)|new\s+york|seattle|san\s+francisco|dallas|chicago|"
             r"hetzner|vultr|digitalocean|linode")
VENDOR_EN = r"(?:AWS|amazon\s+web\s+services|azure|GCP|google\s+cloud|alibaba\s+cloud|aliyun|tencent\s+cloud|huawei\s+cloud)"
HOST_EN = (r"host(?:ed|ing|s)?|servers?|deploy(?:ed|ing)?|data\s*cent(?:er|re)s?|cloud|VPS|instances?|region|"
           r"runs?\s+on|running\s+on|backend|located")
# not "nodes": "a CDN with mainland China nodes" says where the CDN serves from, not where the servers are
PLACE_FIRST_EN = r"(?:[\s-]+based)?[\s-]+(?:servers?|hosting|host|VPS|data\s*cent(?:er|re)s?|region|cloud)"
# Cloud region codes name the place outright ("AWS us-east-1", "Aliyun cn-shanghai", "ap-guangzhou").
REGION_HK = r"(?<![\w-])(?:cn|ap)-hongkong(?:-\d)?(?![\w-])"
REGION_MAINLAND = (r"(?<![\w-])(?:cn-(?:hangzhou|shanghai|beijing|shenzhen|qingdao|zhangjiakou|huhehaote|wulanchabu|chengdu|"
                   r"guangzhou|heyuan|nanjing|fuzhou|wuhan|north-\d|northwest-\d|east-\d|south-\d|southwest-\d)|"
                   r"ap-(?:beijing|shanghai|guangzhou|chengdu|chongqing|nanjing))(?:-[\w]+)?(?![\w-])")
REGION_ABROAD = (r"(?<![\w-])(?:us|eu|ap|sa|ca|me|af|il|mx)-(?:east|west|central|north|south|northeast|southeast|"
                 r"singapore|tokyo|seoul|mumbai|bangkok|jakarta|frankfurt|siliconvalley|virginia|toronto)(?:-\d+)?(?![\w-])")
MAINLAND_ZH = r"国内|境内|中国大陆|大陆|内地|北京|上海|深圳|广州|杭州|成都|南京|武汉|天津|重庆|青岛|张家口|贵州|宁夏|海南"
HK_ZH = r"香港|澳门|台湾|港澳台"
ABROAD_ZH = r"境外|海外|国外|新加坡|美国|日本|韩国|欧洲|德国|英国|法国|加拿大|澳大利亚|印度"
HOST_ZH = r"服务器|云服务器|主机|机房|节点|部署|托管|放在|架设|空间"
NEGATED_SERVER = ABROAD_EN  # "not hosted in China" reads as "outside the mainland"


GAP_WORD = r"(?:[\s'-]+(?!(?:not|no|never|isn't|aren't|won't)(?![A-Za-z]))[\w']+)"  # a word that is no negation


def _server(value: str, en: str, zh: str, strength: int = 2) -> list[Pattern]:
    return [
        _p("server", value, rf"{_w(HOST_EN)}{GAP_WORD}{{0,4}}?[\s'-]+(?:in|on|at|from|to)\s+(?:{VENDOR_EN}\W{{0,3}})?{_w(en)}",
           "abroad" if value == "mainland" else None, strength),
        _p("server", value, rf"{_w(en)}{PLACE_FIRST_EN}(?![A-Za-z])", None, strength),
        _p("server", value, rf"(?:{HOST_ZH})[^，。；！？,.;!?\s不没非未]{{0,6}}?(?:{zh})", "abroad" if value == "mainland" else None,
           strength),
        _p("server", value, rf"(?:{zh})(?:的|地区的?)?(?:{HOST_ZH}|云)", None, strength),
    ]


SERVER = [
    _p("server", "hk-macao-taiwan", REGION_HK),
    _p("server", "mainland", REGION_MAINLAND),
    _p("server", "abroad", REGION_ABROAD),
    _p("server", "abroad", rf"{_w(HOST_EN)}(?:[\s'-]+[\w']+){{0,3}}?[\s'-]+(?:not|n't|never)\s+(?:be\s+)?(?:located\s+|hosted\s+)?"
                           rf"(?:in|on)\s+(?:mainland\s+)?china(?![A-Za-z])"),
    _p("server", "abroad", rf"(?:{HOST_ZH})[^，。；！？,.;!?\s]{{0,4}}?(?:不在|不放在|没有?放在|不部署在)(?:{MAINLAND_ZH})"),
    _p("server", "mainland", rf"{VENDOR_EN}\W{{0,3}}{_w(MAINLAND_EN)}"),
    *_server("hk-macao-taiwan", HK_EN, HK_ZH),
    *_server("abroad", ABROAD_EN, ABROAD_ZH),
    *_server("mainland", MAINLAND_EN, MAINLAND_ZH),
    _p("server", "hk-macao-taiwan", r"(?:阿里云|腾讯云|华为云|alibaba\s+cloud|aliyun|tencent\s+cloud)\W{0,3}(?:香港|hong\s*kong)"),
    _p("server", "abroad", r"(?:阿里云|腾讯云|华为云|alibaba\s+cloud|aliyun|tencent\s+cloud)\W{0,3}(?:国际|海外|新加坡|international|singapore)"),
    _p("server", "mainland", r"阿里云|腾讯云|华为云|百度云|京东云|aliyun|alibaba\s+cloud\s+(?:china|mainland)", strength=1),
]

CDN = [
    _p("cdn", "mainland", rf"CDN[^.;!?，。；]{{0,30}}?{_w('in|inside|within|covering|across')}\s+(?:mainland\s+)?china", "none"),
    _p("cdn", "mainland", rf"{_w('china|mainland|chinese|domestic')}(?:\s+mainland)?\s+CDN|cloudflare\s+china\s+network", "none"),
    _p("cdn", "mainland", r"(?:国内|境内|大陆)(?:的)?(?:CDN|加速)|CDN[^，。；]{0,8}(?:国内|境内|大陆|中国)", "none"),
    _p("cdn", "mainland", rf"{_w('CDN')}", "none", strength=1),
]

# --- operator and foreign share -----------------------------------------------------------------------------
NATIONALITY = (r"(?-i:US|UK|HK)|american|british|german|french|dutch|swiss|swedish|japanese|korean|singapore(?:an)?|"
               r"australian|canadian|indian|european|foreign|overseas|offshore|hong\s*kong|taiwanese|israeli|finnish")
# "wholly owned by our Singapore parent": a subsidiary in China whose whole share is foreign
OWNED_ABROAD = rf"(?:wholly|fully|100%)[\s-]+owned\s+by\s+(?:our|a|an|its|the)\s+(?:{NATIONALITY})\s+(?:parent|company|holding)"
ORG_EN = r"company|startup|start-up|business|firm|corporation|entity|developer|team|brand|agency|saas\s+company"
OPERATOR = [
    _p("operator", "foreign-invested", _w(r"wfoes?|wofe|wholly[\s-]+foreign[\s-]+owned(?:\s+enterprise)?"), "foreign-company"),
    _p("operator", "foreign-invested", OWNED_ABROAD),
    _p("operator", "foreign-invested",
       _w(r"foreign[\s-]+invested(?:\s+(?:company|enterprise|entity))?|FIEs?|(?:sino-foreign\s+)?joint[\s-]+ventures?|JVs?"),
       "foreign-company"),
    _p("operator", "foreign-invested",
       _w(r"(?:chinese|china|mainland|local|shanghai|beijing|shenzhen|hainan)\s+subsidiary|subsidiary\s+in\s+(?:mainland\s+)?(?:china|shanghai|beijing|shenzhen|hainan)"),
       "foreign-company", strength=1),
    _p("operator", None, _w(r"(?:chinese|china|mainland|local|PRC|onshore|china-based)\s+(?:legal\s+)?(?:entity|entities|presence|branch|company|subsidiary)|(?:entity|entities|company|subsidiary|presence|office|branch)\s+in\s+(?:mainland\s+)?china"),
       "foreign-company", negated_strength=2),
    _p("operator", "individual", _w(r"(?:personal|private|hobby)\s+(?:blog|website|site|homepage|portfolio|project|page)|"
                                    r"(?:as\s+an?|i\s+am\s+an?|i'm\s+an?)\s+(?:individual|private\s+person|freelancer|student|hobbyist|indie|solo)"
                                    r"|in\s+my\s+own\s+name|(?:just\s+)?me\s+personally")),
    _p("operator", "domestic-company", _w(r"(?:purely\s+)?domestic(?:ally)?[\s-]+(?:owned|funded|company|business|firm|enterprise)|"
                                          r"(?:fully|purely|100%|wholly)\s+domestic|chinese[\s-]owned|"
                                          r"no\s+foreign\s+(?:shareholders?|investors?|investment|capital|owners?|money)")),
    _p("operator", "domestic-company", _w(r"(?:chinese|PRC|mainland|local)\s+(?:company|business|startup|firm|enterprise|corporation)"),
       "foreign-company", strength=1),
    _p("operator", "foreign-company", rf"{_w(NATIONALITY)}(?:[\s-]+based|[\s-]+registered|[\s-]+incorporated)?[\s-]+{_w(ORG_EN)}",
       strength=1),
    _p("operator", "individual", _w(r"individual(?!\s+(?:users?|customers?|buyers?|sellers?|merchants?))|myself|"
                                    r"personal(?!\s+(?:data|information|info|privacy))"), strength=1),
    # Chinese
    _p("operator", "foreign-company", r"(?:境内|国内|大陆|中国)(?:还)?(?:没有|没|无)(?:设立)?(?:任何)?(?:主体|公司|实体|子公司|分公司|法人)"),
    _p("operator", "foreign-invested", r"外商独资|外资独资|中外合资|合资(?:企业|公司)|外商投资企业|外资(?:企业|公司|子公司)|外企", "foreign-company"),
    _p("operator", "domestic-company", r"纯内资|内资(?:企业|公司)?|民营企业|国有企业|国企|(?:公司|企业|主体)(?:是|为)(?:国内|境内|中国|大陆)(?:的|企业|公司)"),
    _p("operator", "domestic-company", r"(?:境内|国内|中国|大陆)(?:的)?(?:公司|企业|主体|法人)", "foreign-company", strength=1,
       negated_strength=2),
    _p("operator", "foreign-company", r"(?:境外|海外|国外|外国|香港|新加坡|美国|日本|英国|德国|韩国)(?:的|注册的)?(?:公司|企业|主体)", strength=1),
    _p("operator", "individual", r"个人(?:博客|网站|站长|开发者|主页|作品集|项目|名义|身份|备案|站)|我是个人|以个人|我个人"),
    _p("operator", "foreign-invested", r"外资|外方", strength=1),
    _p("operator", "individual", r"个人(?!信息|数据|隐私|用户|消费者|卖家)", strength=1),
]

FOREIGN_SHARE = [
    _p("foreign-share", "over-50", _w(r"wfoes?|wofe|wholly[\s-]+foreign[\s-]+owned|100\s*%\s*foreign(?:[\s-]+owned)?|fully\s+foreign[\s-]+owned|"
                                      + OWNED_ABROAD)
       + r"|外商独资|外资独资|外资100%|100%外资"),
]

# --- service form ------------------------------------------------------------------------------------------
SERVICE = [
    _p("service", "mini-program", _w(r"(?:wechat\s+|alipay\s+|douyin\s+)?mini[\s-]?programs?|mini[\s-]?apps?|quick[\s-]?apps?") + r"|小程序|快应用"),
    _p("service", "website", _w(r"web[\s-]?apps?|web[\s-]?sites?|sites?|blogs?|homepage|portal|web[\s-]?shop|online\s+(?:store|shop)|landing\s+page|saas|web\s+platform|webpages?")),
    _p("service", "api", _w(r"APIs?(?:\s+only)?|api[\s-]only") + r"|接口服务|开放接口"),
    _p("service", "app", _w(r"(?:mobile\s+|ios\s+|android\s+|native\s+)?apps?|ios|android|app\s+stores?|google\s+play|"
                            r"(?:mobile|phone|smartphone)\s+games?")),
    _p("service", "app", r"(?<![A-Za-z])(?:APP|App|app)(?![A-Za-z])|应用程序|安卓|苹果应用|手机应用|移动应用|客户端|应用商店|应用市场|手游|手机游戏"),
    _p("service", "website", r"网站|官网|博客|网页|网店|(?<!小程序)商城|主页|门户|站点"),  # a 小程序商城 is a mini-program
]

# --- paid information services -----------------------------------------------------------------------------
PAID = [
    _p("paid", "no", _w(r"free\s+of\s+charge|for\s+free|(?:is|are|it's|completely|totally|entirely|always|100%)\s+free|"
                        r"free\s+(?:to\s+use|to\s+read|to\s+access|service|website|site|app|content|information|blog|tool|for\s+(?:users|everyone|all))|"
                        r"non-?commercial|no\s+(?:fees?|charges?|payments?)|without\s+charging|not\s+for\s+profit|non-?profit|"
                        r"(?:(?<=^)|(?<=[,;:(]\s)|(?<=[,;:(]))free(?=\s*(?:[,.;:)]|$))")),
    _p("paid", "no", r"免费(?!试用)|无偿|不收费|不收钱|不收取|非经营性|公益"),
    _p("paid", "yes", _w(r"(?<!in\s)charg(?:e|es|ed|ing)|subscriptions?|paywall|freemium|pay[\s-]per[\s-]\w+|"
                         r"in[\s-]app\s+purchases?|(?:monthly|battle|season)\s+pass(?:es)?|(?:buy|purchase)\s+(?:skins|items|coins|gems|credits|chapters)|"
                         r"paid\s+(?:membership|memberships|content|plans?|tiers?|articles?|courses?|version|features?|subscriptions?|users?|accounts?|services?|reports?|downloads?)|"
                         r"(?:membership|monthly|annual|yearly|usage|licen[cs]e|service|access)\s+fees?|premium\s+(?:content|plans?|membership|tiers?|features?|accounts?)|"
                         r"sell\s+(?:(?:our|my)\s+)?(?:own\s+)?(?:subscriptions|memberships|access|(?:online\s+)?courses|classes|lessons|credits|licen[cs]es|reports|data)|"
                         r"pay\s+(?:us|monthly|a\s+fee|for\s+(?:access|content|the\s+service|premium|membership|reports))|"
                         r"(?:users?|customers?|members?|readers?|subscribers?|clients?|people)\s+(?:will\s+|have\s+to\s+|must\s+)?(?:pay|are\s+charged)|"
                         r"paid\s+(?!ads?\b|advertising|search|media|traffic|by\b|for\b|to\b|in\b)[a-z]+"), "no"),
    _p("paid", "yes", r"付费|收费|会员费|订阅|充值|有偿|月费|年费|服务费|卖会员|经营性(?:网站|服务)?", "no"),
    _p("paid", "yes", r"会员", strength=1),
]

# --- selling goods -----------------------------------------------------------------------------------------
SALES = [
    _p("sales", "marketplace", _w(r"marketplaces?|third[\s-]+party\s+(?:sellers?|merchants?|vendors?|shops?|stores?|brands?)|"
                                  r"(?:other|outside|independent)\s+(?:sellers?|merchants?|vendors?|shops?|brands?|businesses|companies)\s+(?:can\s+|to\s+|will\s+|could\s+)?(?:sell|list|open)|"
                                  r"(?:sellers?|merchants?|vendors?)\s+(?:can\s+|to\s+|will\s+)?(?:open\s+(?:shops?|stores?)|list\s+(?:their|products))"), "none"),
    _p("sales", "marketplace", r"商家入驻|入驻(?:商家|卖家|商户)?|第三方(?:商家|卖家|店铺|商户)|其他商家|多商户|撮合|(?:C2C|B2B2C)平台|(?:商家|卖家)(?:可以)?(?:开店|入驻)", "none"),
    # "sell our own courses" sells a paid service, not goods (PAID reads it)
    _p("sales", "own-goods", _w(r"sell(?:s|ing)?\s+(?:our|my|its|their)\s+(?:own\s+(?!(?:online\s+)?(?:courses?|classes|lessons|content|videos?|"
                                r"reports?|subscriptions?|memberships?|e-?books?)(?![A-Za-z]))[\w-]+|products?|goods|merchandise|items|brand|\w+\s+products)|"
                                r"(?:our|my)\s+own\s+(?:products?|goods|brand|merchandise)|direct[\s-]to[\s-]consumer|D2C|DTC|"
                                r"self[\s-]operated"), "none"),
    _p("sales", "own-goods", r"自营|卖自己的|销售(?:自己|本公司|自家|我们|公司)的?(?:产品|商品)|自有(?:产品|商品|品牌)", "none"),
    _p("sales", "own-goods", _w(r"online\s+(?:store|shop)|web[\s-]?shop|e-?shop|e-?commerce|sell(?:s|ing)?\s+(?:products?|goods|merchandise)|shopping"),
       "none", strength=1),
    _p("sales", "own-goods", r"网店|网上商城|商城|卖货|带货|卖(?:产品|商品)|销售(?:产品|商品)|电商", "none", strength=1),
]

# --- content needing sector approval (several values may hold) --------------------------------------------
CONTENT = [
    _p("content", "drugs", _w(r"drugs?|medicines?|pharma(?:cy|cies|ceuticals?)?|medical\s+devices?|prescriptions?") + r"|药品|医疗器械|药店|药房|处方药|医药", "none"),
    _p("content", "news", _w(r"news") + r"|新闻|时政", "none"),
    _p("content", "publishing", _w(r"(?:online\s+)?publishing|e-?books?|novels?|web\s+fiction|magazines?") + r"|网络出版|出版|电子书|网络文学|(?<!文)网文|小说", "none"),
    _p("content", "audio-visual", _w(r"videos?|streaming|live[\s-]?stream(?:s|ing)?|audio[\s-]?visual|films?|movies?|podcasts?|TV\s+(?:shows|series|programs?|programmes?)")
       + r"|视频|视听|直播|影视|电影|电视剧|网络剧|播客", "none"),
    _p("content", "culture", _w(r"(?:online\s+|mobile\s+)?games?|gaming|music|anime|animation|comics?|performances?|art\s*works?")
       + r"|游戏|音乐|动漫|演出|艺术品|网络文化|文网文", "none"),
    _p("content", "medical", _w(r"medical|health\s*care|hospitals?|clinics?|doctors?|telemedicine|patients?")
       + r"|医疗|医院|诊所|问诊|医生|健康咨询|互联网医疗", "none"),
    _p("content", "education", _w(r"education(?:al)?|online\s+(?:courses?|classes|lessons|tutoring|learning)|tutoring|e-?learning|courses?|training")
       + r"|教育|培训|网课|课程|辅导", "none"),
    _p("content", "forum", _w(r"forums?|BBS|bulletin\s+boards?|message\s+boards?|user[\s-]generated\s+content|UGC|users?\s+(?:can\s+)?post")
       + r"|论坛|留言板|贴吧|社区|用户发帖", "none"),
    _p("content", "none", _w(r"(?:just|only|simple)\s+(?:an?\s+)?(?:corporate|company|brochure|product|marketing|informational|static|showcase)\s+(?:site|website|page)s?")
       + r"|企业展示|公司介绍|展示型|宣传网站|企业官网", strength=1),
]

# --- province of the mainland company (after SERVER: "hosted in Shanghai" is a server location) -------------
PROVINCE = [
    _p("province", "shanghai", _w(r"shanghai|lingang|pudong") + r"|上海|临港|浦东"),
    _p("province", "beijing", _w(r"beijing") + r"|北京"),
    _p("province", "hainan", _w(r"hainan|haikou|sanya") + r"|海南|海口|三亚"),
    _p("province", "shenzhen", _w(r"shenzhen|qianhai") + r"|深圳|前海"),
    _p("province", "other", _w(r"guangzhou|guangdong|hangzhou|zhejiang|jiangsu|suzhou|nanjing|chengdu|sichuan|wuhan|hubei|"
                               r"tianjin|chongqing|xiamen|fujian|fuzhou|shandong|qingdao|dalian|liaoning|xi'an|shaanxi|anhui|hefei|"
                               r"henan|hunan|changsha|jiangxi|yunnan|guangxi|hebei|ningbo|dongguan|foshan")
       + r"|广州|广东|杭州|浙江|江苏|苏州|南京|成都|四川|武汉|湖北|天津|重庆|厦门|福建|福州|山东|青岛|大连|辽宁|西安|陕西|安徽|合肥|河南|湖南|长沙|江西|云南|广西|河北|宁波|东莞|佛山"),
]

PATTERNS: tuple[Pattern, ...] = (*SERVER, *CDN, *OPERATOR, *FOREIGN_SHARE, *PAID, *SALES, *SERVICE, *CONTENT, *PROVINCE)

# Foreign share stated as a percentage: (regex, whether the number is the Chinese side's share).
SHARE_PATTERNS: tuple[tuple[re.Pattern[str], bool], ...] = tuple((re.compile(r, re.IGNORECASE), chinese) for r, chinese in (
    (r"(\d{1,3}(?:\.\d+)?)\s*(?:%|％|percent)\s*(?:foreign|overseas|外资|外方|(?:owned\s+|held\s+)?by\s+(?:our|the|a)\s+(?:foreign|overseas|US|parent))", False),
    (r"(?:foreign|overseas|外资|外方|外国投资者)[\s\w-]{0,20}?(?:share|stake|ownership|holds?|owns?|of|at|is|持股|占股|占比|占|比例|出资)\s*(?:is\s+|of\s+|at\s+)?(\d{1,3}(?:\.\d+)?)\s*(?:%|％|percent)", False),
    (r"(?:chinese|domestic|local|中方|内资|国内)[\s\w-]{0,20}?(?:partner|side|shareholders?|股东)?\s*(?:holds?|holding|owns?|owning|has|having|with|at|持股|占股|占)\s*(\d{1,3}(?:\.\d+)?)\s*(?:%|％|percent)", True),
))

NEGATION_EN = re.compile(r"(?<![A-Za-z])(?:no|nothing|not|don't|dont|do\s+not|doesn't|does\s+not|never|without|isn't|aren't|won't|neither|nor|lack|n't)"
                         r"(?![A-Za-z])(?:\W+\w+){0,3}\W*$", re.IGNORECASE)
NEGATION_ZH = re.compile(r"(?:不|没有|没|无|非|未|并非|并不|别)[^，。；！？,.;!?]{0,3}$")
CLAUSE_END = re.compile(r"[,.;:!?，。；：！？\n—]|\s-\s|\bbut\b|但是|不过")
