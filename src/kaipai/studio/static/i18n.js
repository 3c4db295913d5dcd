/* The studio's words in Chinese and English. The language is the director's choice, else the project's, else the browser's. */
"use strict";
const MESSAGES = {
  en: {
    "nav.storyboard": "Storyboard", "nav.cast": "Cast & style", "nav.render": "Render", "nav.screen": "Screening room",
    "status.current": "current", "status.stale": "stale", "status.missing": "missing", "status.failed": "failed", "status.blocked": "blocked",
    "take.circled": "circled", "take.pending": "pending", "take.rejected": "rejected",
    "field.size": "Size", "field.angle": "Angle", "field.move": "Move", "field.duration": "Seconds", "field.description": "What we see",
    "field.action": "Action", "field.lens": "Lens", "field.lighting": "Lighting", "field.notes": "Director's notes",
    "shot.open": "Takes", "shot.lock": "Lock", "shot.unlock": "Unlock", "shot.locked": "locked", "shot.delete": "Delete",
    "shot.add": "+ Shot after", "shot.addline": "+ Line", "shot.confirmDelete": "Delete shot {id}? Its takes are kept.",
    "shot.noPicture": "not rendered yet", "shot.dragHint": "Drag cards to reorder; edits save as you leave a field.",
    "takes.title": "Takes of {id}", "takes.none": "No takes yet.", "takes.circle": "Circle", "takes.reject": "Reject",
    "takes.retake": "Retake (new seed)", "takes.note": "A note for the retake, e.g. ‘slower, warmer light’", "takes.retakeNote": "Retake with note",
    "takes.seed": "seed", "takes.cost": "cost", "takes.seconds": "s", "takes.qc": "QC", "takes.staleFlag": "made from old inputs",
    "takes.working": "Making a new take…", "takes.back": "← Storyboard",
    "stage.sheet": "Reference sheet", "stage.voice": "Voice", "stage.shot_audio": "Shot audio", "stage.keyframe": "Keyframe", "stage.end_keyframe": "End keyframe", "stage.clip": "Clip", "stage.lipsync": "Lip sync", "stage.music": "Music", "stage.ambience": "Ambience", "stage.sfx": "Sound effect",
    "cast.characters": "Characters", "cast.locations": "Locations", "cast.style": "Style bible", "cast.noRefs": "no reference sheet yet",
    "cast.voice": "Voice preview", "cast.noVoice": "no voice rendered yet", "cast.save": "Save style", "cast.saved": "Saved",
    "style.visual_style": "Visual style", "style.palette": "Palette (#RRGGBB, comma separated)", "style.lighting": "Lighting (影调)",
    "style.lens": "Lens and film", "style.negative_prompt": "Avoid", "cast.description": "Description", "cast.wardrobe": "Wardrobe",
    "render.start": "Render", "render.cancel": "Cancel", "render.cut": "Make the cut", "render.animatic": "Cut the animatic", "render.budget": "Budget", "render.nolimit": "no limit",
    "render.spent": "Spent on this project", "render.estimate": "A render now would cost about", "render.thisRun": "This run",
    "render.idle": "Nothing running.", "render.done": "Finished: {generated} generated, {reused} reused, {failed} failed, cost {cost}",
    "render.cancelled": "Cancelled: finished work is kept.", "render.cutDone": "The cut is ready ({duration} s).", "render.failed": "Failed: {error}",
    "render.overall": "overall", "render.cutting": "Cutting the film",
    "screen.none": "No cut yet. Make one on the Render page.", "screen.animatic": "Show the animatic (info bars)", "screen.film": "Show the film", "screen.open": "Open shot {id}", "screen.hint": "Click a shot to jump to it; click the label to open its takes.",
    "qc.passed": "QC ✓", "qc.failed": "QC ✗", "qc.flagged": "QC ⚑", "qc.unchecked": "QC ·", "qc.retake": "retake", "qc.checked": "checked",
    "saved": "Saved", "error": "Error",
  },
  zh: {
    "nav.storyboard": "分镜", "nav.cast": "角色与风格", "nav.render": "渲染", "nav.screen": "放映室",
    "status.current": "最新", "status.stale": "已过期", "status.missing": "未生成", "status.failed": "失败", "status.blocked": "受阻",
    "take.circled": "已圈选", "take.pending": "待定", "take.rejected": "已弃用",
    "field.size": "景别", "field.angle": "角度", "field.move": "运镜", "field.duration": "秒数", "field.description": "画面内容",
    "field.action": "动作", "field.lens": "镜头", "field.lighting": "光影", "field.notes": "导演备注",
    "shot.open": "查看各条", "shot.lock": "锁定", "shot.unlock": "解锁", "shot.locked": "已锁定", "shot.delete": "删除",
    "shot.add": "+ 在后面加镜头", "shot.addline": "+ 台词", "shot.confirmDelete": "删除镜头 {id}？已生成的素材会保留。",
    "shot.noPicture": "尚未生成", "shot.dragHint": "拖动卡片调整顺序；离开输入框即自动保存。",
    "takes.title": "{id} 的各条", "takes.none": "还没有生成。", "takes.circle": "圈选", "takes.reject": "弃用",
    "takes.retake": "重拍（新种子）", "takes.note": "重拍意见，例如“慢一点，光线更暖”", "takes.retakeNote": "按意见重拍",
    "takes.seed": "种子", "takes.cost": "费用", "takes.seconds": "秒", "takes.qc": "质检", "takes.staleFlag": "基于旧的输入",
    "takes.working": "正在生成新的一条…", "takes.back": "← 分镜",
    "stage.sheet": "定妆照", "stage.voice": "配音", "stage.shot_audio": "镜头音轨", "stage.keyframe": "关键帧", "stage.end_keyframe": "尾帧", "stage.clip": "视频", "stage.lipsync": "对口型", "stage.music": "配乐", "stage.ambience": "环境声", "stage.sfx": "音效",
    "cast.characters": "角色", "cast.locations": "场景", "cast.style": "风格设定", "cast.noRefs": "还没有设定图",
    "cast.voice": "试听配音", "cast.noVoice": "还没有配音", "cast.save": "保存风格", "cast.saved": "已保存",
    "style.visual_style": "整体风格", "style.palette": "色板（#RRGGBB，逗号分隔）", "style.lighting": "影调",
    "style.lens": "镜头与胶片", "style.negative_prompt": "避免", "cast.description": "描述", "cast.wardrobe": "服装",
    "render.start": "开始渲染", "render.cancel": "取消", "render.cut": "剪辑成片", "render.animatic": "剪辑动态分镜", "render.budget": "预算", "render.nolimit": "不限",
    "render.spent": "本项目已花费", "render.estimate": "现在渲染预计花费", "render.thisRun": "本次",
    "render.idle": "没有正在进行的任务。", "render.done": "完成：生成 {generated}，复用 {reused}，失败 {failed}，花费 {cost}",
    "render.cancelled": "已取消：完成的部分都已保留。", "render.cutDone": "成片已生成（{duration} 秒）。", "render.failed": "失败：{error}",
    "render.overall": "总进度", "render.cutting": "正在剪辑",
    "screen.none": "还没有成片。请在“渲染”页剪辑成片。", "screen.animatic": "看动态分镜（带信息条）", "screen.film": "看成片", "screen.open": "打开镜头 {id}", "screen.hint": "点击镜头跳转；点击标签查看该镜头的各条。",
    "qc.passed": "质检 ✓", "qc.failed": "质检 ✗", "qc.flagged": "质检 ⚑", "qc.unchecked": "未质检", "qc.retake": "重拍", "qc.checked": "已质检",
    "saved": "已保存", "error": "出错",
  },
};

function chooseLanguage(projectLanguage) {
  const chosen = localStorage.getItem("kaipai.lang");
  if (chosen && MESSAGES[chosen]) return chosen;
  if (projectLanguage && MESSAGES[projectLanguage]) return projectLanguage;
  return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
}

let LANG = chooseLanguage(null);

function t(key, vars) {
  let text = (MESSAGES[LANG] && MESSAGES[LANG][key]) || MESSAGES.en[key] || key;
  for (const [k, v] of Object.entries(vars || {})) text = text.replaceAll("{" + k + "}", v);
  return text;
}
