"""Property templates (defaults) of the 3CX entities the lab serves.

Property names and types follow the 3CX document's ``Pbx.*`` schemas; values are the
lab's defaults (live defaults from shared/reference/3cx-xapi.md where it has them:
RingTimeout 30, MasterTimeout 1800, RingTime 30, TimeBetweenReg 120, ForwardNoAnswer
``To: None``, routes ``To: ProceedWithNoExceptions``). A property absent here is refused
as unknown, like the PBX does for a property its type does not define.
"""

from __future__ import annotations

# Properties a version does not have yet (shared/reference/3cx-xapi.md §1, version table).
SINCE = {
    "Pbx.TrunkTemplate": {"IsCustom": "20.0.10"},
    "Pbx.Gateway": {"IsCustom": "20.0.10"},
    "Pbx.Trunk": {"DisableCallTransfer": "20.0.10", "ScriptName": "20.0.10"},
    "Pbx.Queue": {
        "AnnounceEstimatedWaitTime": "20.0.10",
        "AnnounceEstimatedWaitTimeInterval": "20.0.10",
        "ComfortPrompts": "20.0.10",
        "ComfortPromptsEnabled": "20.0.10",
        "ComfortPromptsInterval": "20.0.10",
        "DestinationNoAnswerPrompt": "20.0.10",
        "MaxWaitStrategyEnabled": "20.0.10",
        "VMEmailList": "20.0.9",
        "VMEmailOptions": "20.0.9",
    },
    "Pbx.RingGroup": {"VMEmailList": "20.0.9", "VMEmailOptions": "20.0.9"},
}

DEFAULT_DEPARTMENT_ID = 27


def destination(to: str = "None") -> dict:
    return {"To": to, "Number": "", "External": "", "Name": "", "Type": "None", "Tags": []}


def route(to: str = "ProceedWithNoExceptions") -> dict:
    return {"IsPromptEnabled": False, "Prompt": "", "Route": destination(to)}


UNUSED_ROUTE = {"TrunkId": -1, "StripDigits": 0, "Prepend": "", "Append": "", "CallerID": ""}

GROUP_DEFAULTS = {
    "Id": 0,
    "Number": "",
    "Name": "",
    "IsDefault": False,
    "HasMembers": False,
    "Language": "EN",
    "TimeZoneId": "51",
    "PromptSet": "",
    "Members": [],
}
GROUP_SEED = [
    {"Id": DEFAULT_DEPARTMENT_ID, "Number": "GRP0000", "Name": "DEFAULT", "IsDefault": True, "HasMembers": True},
    {"Id": 31, "Number": "GRP0001", "Name": "Support"},
]

USER_DEFAULTS = {
    "Id": 0,
    "Number": "",
    "FirstName": "",
    "LastName": "",
    "DisplayName": "",
    "EmailAddress": "",
    "Mobile": "",
    "OutboundCallerID": "",
    "Enabled": True,
    "Internal": False,
    "IsRegistered": True,
    "CurrentProfileName": "Available",
    "QueueStatus": "LoggedIn",
    "PrimaryGroupId": DEFAULT_DEPARTMENT_ID,
    "Language": "EN",
    "Tags": [],
    "Groups": [],
}
USER_SEED = [
    (41, "100", "Ada", "Lovelace"),
    (44, "101", "Alan", "Turing"),
    (47, "102", "Grace", "Hopper"),
    (52, "103", "Edsger", "Dijkstra"),
    (58, "104", "Barbara", "Liskov"),
    (61, "105", "Donald", "Knuth"),
]

# Profile names of v20 (Pbx.ProfileType: Available, Away, OutOfOffice, Available2, OutOfOffice2).
# The v20 client shows "Out of office" as Do Not Disturb: the lab's DND marker.
PROFILE_NAMES = ("Available", "Away", "Out of office", "Custom 1", "Custom 2")
DND_PROFILE = "Out of office"

TEMPLATE_DEFAULTS = {
    "Id": "",
    "Name": "",
    "Description": "",
    "Content": "",
    "Countries": [],
    "Tags": [],
    "TemplateType": "ThirdParty",
    "IsCustom": True,
    "AddAllowed": True,
    "DefaultRegistrarPort": 5060,
    "DefaultProxyPort": 5060,
    "Editors": ["Voip"],
    "Url": "",
    "MessagingTemplate": None,
}

GATEWAY_DEFAULTS = {
    "Id": 0,
    "Name": "",
    "Type": "Provider",
    "Host": "",
    "Port": 5060,
    "ProxyHost": "",
    "ProxyPort": 5060,
    "Internal": False,
    "IsCustom": False,
    "Lines": 10,
    "Codecs": [],
    "RequireRegistrationFor": "Nothing",
    "TimeBetweenReg": 120,
    "IPInRegistrationContact": "External",
    "SpecifiedIPForRegistrationContact": "",
    "UseIPInContact": False,
    "DeliverAudio": False,
    "SupportReinvite": True,
    "SupportReplaces": True,
    "SRTPMode": "SRTPDisabled",
    "DestNumberInTo": True,
    "DestNumberInRequestLineURI": True,
    "DestNumberInRemotePartyIDCalled": False,
    "MatchingStrategy": "MatchAnyFields",
    "InboundParams": [],
    "OutboundParams": [],
    "SourceIdentification": [],
    "OutboundCallerID": "",
    "TemplateFilename": "",
    "VariableChoices": [],
}

TRUNK_NAV = ("Groups", "RoutingRules", "ReceiveExtensions", "EmergencyGeoLocations")
TRUNK_DEFAULTS = {
    "Id": 0,
    "Number": "",
    "TranscriptionMode": "Inherit",
    "AuthID": "",
    "AuthPassword": {"Concealed": False},
    "UseSeparateAuthId": False,
    "SeparateAuthId": "",
    "Direction": "Both",
    "DidNumbers": [],
    "ExternalNumber": "",
    "OutboundCallerID": "",
    "SimultaneousCalls": 10,
    "EnableInboundCalls": True,
    "EnableOutboundCalls": True,
    "TransportRestriction": "Any",
    "IPRestriction": "Any",
    "SecondaryRegistrar": "",
    "PublicIPinSIP": "",
    "DiversionHeader": False,
    "DisableVideo": False,
    "DisableCallTransfer": False,
    "ScriptName": "",
    "E164CountryCode": "",
    "E164ProcessIncomingNumber": False,
    "InCIDFormatting": [],
    "OutCIDFormatting": [],
    "IsOnline": False,
    "ConfigurationIssue": "",
    "Certificate": None,
    "CertificateName": None,
    "CertificateExpirationDate": None,
    "Messaging": None,
    "PublishInfo": False,
    "PublicInfoGroups": [],
    "ReceiveInfo": False,
    "RemoteMyPhoneUriHost": "",
    "RemotePBXPreffix": "",
    "Tags": [],
    "TrunkRegTimes": [],
    "TunnelEnabled": False,
    "TunnelRemoteAddr": "",
    "TunnelRemotePort": 0,
    "Gateway": GATEWAY_DEFAULTS,
    "Groups": [],
    "RoutingRules": [],
    "ReceiveExtensions": [],
    "EmergencyGeoLocations": [],
}

_CLICK_TO_CALL = {
    "CallUsEnableChat": False,
    "CallUsEnablePhone": False,
    "CallUsEnableVideo": False,
    "CallUsRequirement": "None",
    "ClickToCallId": "",
}

QUEUE_NAV = ("Agents", "Managers", "Groups")
QUEUE_DEFAULTS = {
    "Id": 0,
    "Number": "",
    "Name": "",
    "TranscriptionMode": "Inherit",
    **_CLICK_TO_CALL,
    "PollingStrategy": "Hunt",
    "RingTimeout": 30,
    "MasterTimeout": 1800,
    "MaxCallersInQueue": 10,
    "WrapUpTime": 0,
    "SLATime": 60,
    "AnnouncementInterval": 0,
    "AnnounceQueuePosition": False,
    "AnnounceEstimatedWaitTime": False,
    "AnnounceEstimatedWaitTimeInterval": 60,
    "AgentAvailabilityMode": False,
    "AutoLogoutMissedCalls": 0,
    "CallbackEnableTime": 0,
    "CallbackOfferOnly": False,
    "CallbackOfferPrompt": "",
    "CallbackPrefix": "",
    "ComfortPrompts": [],
    "ComfortPromptsEnabled": False,
    "ComfortPromptsInterval": 60,
    "DestinationNoAnswerPrompt": "",
    "EnableIntro": False,
    "GreetingFile": "",
    "IntroFile": "",
    "OnHoldFile": "",
    "PromptSet": "",
    "PlayFullPrompt": False,
    "PriorityQueue": False,
    "Recording": "Disabled",
    "IsRegistered": True,
    "MaxWaitStrategyEnabled": False,
    "MaxWaitTimeSkillGroupValues": [],
    "NotifyCodes": [],
    "ResetQueueStatisticsSchedule": None,
    "ResetStatisticsScheduleEnabled": False,
    "SkillBasedRingAllCumulativePollingEnabled": False,
    "StopBackgroundWhenPrompt": False,
    "TypeOfChatOwnershipType": "TakeManually",
    "VMEmailList": "",
    "VMEmailOptions": "None",
    "ForwardNoAnswer": destination(),
    "OutOfOfficeRoute": route(),
    "BreakRoute": route(),
    "HolidaysRoute": route(),
    "Agents": [],
    "Managers": [],
    "Groups": [],
}

RING_GROUP_NAV = ("Members", "Groups")
RING_GROUP_DEFAULTS = {
    "Id": 0,
    "Number": "",
    "Name": "",
    "TranscriptionMode": "Inherit",
    **_CLICK_TO_CALL,
    "RingStrategy": "Hunt",
    "RingTime": 30,
    "GreetingFile": "",
    "IsRegistered": True,
    "MulticastAddress": "",
    "MulticastCodec": "",
    "MulticastPacketTime": 20,
    "MulticastPort": 0,
    "VMEmailList": "",
    "VMEmailOptions": "None",
    "ForwardNoAnswer": destination(),
    "OutOfOfficeRoute": route(),
    "BreakRoute": route(),
    "HolidaysRoute": route(),
    "Members": [],
    "Groups": [],
}

INBOUND_RULE_DEFAULTS = {
    "Id": 0,
    "RuleName": "",
    "Condition": "BasedOnDID",
    "Data": "",
    "CustomData": "",
    "CallType": "AllCalls",
    "Hours": {"Type": "AllHours", "IgnoreHolidays": False, "Periods": []},
    "OfficeHoursDestination": destination(),
    "OutOfOfficeHoursDestination": destination(),
    "HolidaysDestination": destination(),
    "AlterDestinationDuringOutOfOfficeHours": False,
    "AlterDestinationDuringHolidays": False,
    "TrunkDN": None,
}

OUTBOUND_RULE_DEFAULTS = {
    "Id": 0,
    "Name": "",
    "Prefix": "",
    "Priority": 0,
    "NumberLengthRanges": "",
    "DNRanges": [],
    "GroupIds": [],
    "GroupNames": [],
    "EmergencyRule": False,
    "Routes": [dict(UNUSED_ROUTE) for _ in range(5)],
}
