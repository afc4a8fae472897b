"""The audit criteria (严控审核标准, 分级分类): versioned checklists per grade, optionally per assessment type,
used by confirmation audits and spot checks alike; each audit keeps the version it was answered against."""
