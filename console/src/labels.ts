// What operators read: the wire's codes in Chinese (DESIGN.md's glossary).

export const STATUS: Record<string, string> = {
  received: "待分拨",
  dispatched: "已派单待签收",
  accepted: "办理中",
  suspended: "挂起",
  resolved: "已办结待审核",
  closed: "已结案",
  merged: "已并单",
  posted: "待认领",
};
export const OPEN_STATUSES = ["received", "dispatched", "accepted", "suspended", "resolved", "posted"];

export const EVENT: Record<string, string> = {
  created: "受理登记",
  dispatched: "分拨派单",
  accepted: "签收",
  returned: "退单",
  transferred: "改派",
  extension_requested: "申请延期",
  extension_decided: "延期审批",
  suspended: "挂起",
  resumed: "恢复办理",
  resolved: "办结",
  answered: "当场答复",
  review_approved: "审核通过，结案",
  review_rejected: "审核退回",
  feedback: "回访评价",
  reopened: "重办",
  merged: "并单",
  instruction: "首席办事员批示",
  flagged: "疑难/重点标注",
  urged: "催办单/督办单",
  accountability: "问责跟进",
  triaged: "分流交办",
  mediated: "调解结果",
  whistled: "基层吹哨",
  claimed: "部门报到认领",
  fallback_assigned: "无人认领，中心兜底",
  resolved_on_spot: "网格员当场解决",
  reminder: "催办",
  supervision_notice: "督办通知",
  escalated: "升级至首席办事员",
  violation: "问责记录",
  notification: "通知",
};

export const STAGE: Record<string, string> = {
  dispatch: "分拨",
  accept: "签收",
  resolve: "办理",
  reopen: "重办",
  claim: "认领",
};

export const SLA: Record<string, string> = { on_time: "正常", due_soon: "即将到期", overdue: "已超期" };

export const ESCALATION: Record<string, string> = {
  none: "未升级",
  district: "已升级至区县首席办事员",
  city: "已升级至市首席办事员",
};

export const ROLE: Record<string, string> = {
  dispatcher: "分拨员",
  handler: "承办人",
  reviewer: "审核员",
  supervisor: "督办员",
  chief: "首席办事员",
  auditor: "审计员",
  admin: "管理员",
  desk: "受理员",
  mediator: "调解员",
  grid_worker: "网格员",
};

export const CHANNEL: Record<string, string> = {
  wechat: "微信小程序",
  hotline_12345: "12345热线",
  phone: "区县诉求专线",
  grid: "网格员代办",
  walkin: "服务中心窗口",
  meeting: "逢六说事",
};

export const PRIORITY: Record<string, string> = { normal: "普通", urgent: "紧急" };

export const RETURN_REASON: Record<string, string> = {
  jurisdiction: "属地不符",
  function: "职能不符",
  incomplete: "信息不全",
  duplicate: "重复件",
  other: "其他",
};

export const RATING: Record<string, string> = {
  satisfied: "满意",
  basically_satisfied: "基本满意",
  dissatisfied: "不满意",
};

export const NOTIFY_KIND: Record<string, string> = {
  receipt: "受理回执短信",
  closure: "办结答复短信",
  merged: "并单告知短信",
  reopen: "重办告知短信",
  new_order: "新工单通知",
  returned: "退单通知",
  transferred: "改派通知",
  reminder: "催办通知",
  supervision_notice: "督办通知",
  escalation: "升级通知",
  first_inquiry: "首问单位告知",
  instruction: "批示通知",
  accountability: "问责通知",
};

export const NOTIFY_CHANNEL: Record<string, string> = {
  sms: "短信",
  sms_merged: "短信（并单群众）",
  topic: "部门/督办消息",
};

export const NOTIFY_STATUS: Record<string, string> = {
  queued: "待发送",
  sending: "发送中",
  sent: "已发送",
  failed: "发送失败，将重试",
  dead: "多次失败，已停止",
  unconfirmed: "结果未知，待人工核实",
};

export const VIOLATION: Record<string, string> = {
  slow_dispatch: "分拨超时",
  refused_order: "拒不接单",
  slow_handling: "办理超时",
  returned: "退单",
  reopened: "群众不满意重办",
  sloppy_handling: "审核退回（乱办）",
};

export const STEP: Record<string, string> = {
  reminder: "催办",
  supervision_notice: "督办",
  escalate_district: "升级区县",
  escalate_city: "升级市级",
};

export const GRID_LEVEL: Record<string, string> = {
  street: "街道",
  community: "社区",
  compound: "小区",
  building: "楼栋",
  township: "乡镇",
  village: "村",
  hamlet: "屯",
};

export function label(table: Record<string, string>, code: string | null | undefined): string {
  if (code === null || code === undefined || code === "") return "—";
  return table[code] ?? code;
}
