// What citizens read: the wire's codes in plain Chinese.

export const GREETING =
  "您好！这里是“阜政通”办事平台。您的事就是我的事，有事您尽管讲，我将尽责尽快为您处理好、服务好。";

/** The county entrances in the order the mini program shows them; any other district follows by code. */
export const ENTRANCE_ORDER = ["210921", "210922", "210902", "210911", "210904", "210903", "210905"];

export const STATUS: Record<string, string> = {
  received: "待分拨",
  dispatched: "已派单待签收",
  accepted: "办理中",
  suspended: "挂起",
  resolved: "已办结待审核",
  closed: "已结案",
  merged: "已并单",
};

/** What the current stage's deadline is for, as a citizen would say it. */
export const STAGE: Record<string, string> = {
  dispatch: "分派承办部门",
  accept: "承办部门签收",
  resolve: "办理并答复",
  reopen: "重新办理并答复",
};

export const RATINGS: [string, string][] = [
  ["satisfied", "满意"],
  ["basically_satisfied", "基本满意"],
  ["dissatisfied", "不满意"],
];
export const RATING: Record<string, string> = Object.fromEntries(RATINGS);

export interface TimelineEvent {
  type: string;
  at: string;
  [key: string]: unknown;
}

/**
 * One timeline event as a plain sentence, or null for what is internal (notifications,
 * accountability records, pending requests) and for event types this page does not know.
 */
export function sentence(e: TimelineEvent, department: (code: unknown) => string): string | null {
  switch (e.type) {
    case "created":
      return "我们已收到您的诉求，正在为您分派承办部门。";
    case "dispatched":
      return `已交由${department(e.department)}办理。`;
    case "accepted":
      return `${department(e.department)}已接单，正在办理。`;
    case "returned":
      return "正在为您重新分派更合适的承办部门。";
    case "transferred":
      return `已转交${department(e.department)}办理。`;
    case "extension_decided":
      return e.approve === true && typeof e.working_days === "number"
        ? `经批准，办理时限延长${e.working_days}个工作日。`
        : null;
    case "suspended":
      return "办理暂停，暂停期间不计入办理时限。";
    case "resumed":
      return "恢复办理。";
    case "resolved":
      return "承办部门已办结并答复，正在审核办理结果。";
    case "answered":
      return "工作人员已当场答复。";
    case "review_approved":
      return "办理结果审核通过，诉求已办结。";
    case "review_rejected":
      return "办理结果未通过审核，承办部门继续办理。";
    case "feedback":
      return `您的评价：${RATING[String(e.rating)] ?? "已评价"}。`;
    case "reopened":
      return "根据您的评价，诉求已重新交办，承办部门将重新办理。";
    case "merged":
      return typeof e.into === "string"
        ? `与反映同一问题的诉求合并办理（编号 ${e.into}）。`
        : "与反映同一问题的诉求合并办理。";
    case "instruction":
      return "首席办事员已作出批示，督促办理。";
    case "reminder":
      return "已向承办部门催办。";
    case "supervision_notice":
      return "已对承办部门发出督办通知。";
    case "escalated":
      return e.level === "city" ? "已提请市首席办事员督办。" : "已提请区县首席办事员督办。";
    default:
      return null; // notification, violation, extension_requested and anything new: not for the citizen
  }
}
