"""Lessons: bilingual lab guides in `lessons/*.toml`, checked as the student works.

`load_lesson` reads and validates a file (problems as `file:line: message`),
`LessonRunner` watches the Bus and the store and ticks steps, `ProgressStore` keeps
each user's progress, `LabReport` renders the report to hand in, and `autoplay`
plays a lesson headless with its demo lines and right answers. No Textual here: the
UI listens to the runner's messages and performs the actions they carry.
"""

from mailsim.lesson.loader import LessonError, LessonProblem, check_files, check_lesson, lesson_files, load_lesson
from mailsim.lesson.messages import (
    ActionRequested,
    AnswerChecked,
    HintShown,
    InspectorOpened,
    LessonFinished,
    RunnerMessage,
    StepCompleted,
    StepProgressed,
    StepStarted,
)
from mailsim.lesson.model import Lesson, Step, Text
from mailsim.lesson.progress import LessonProgress, ProgressStore
from mailsim.lesson.report import LabReport
from mailsim.lesson.runner import LessonRunner

__all__ = [
    "ActionRequested",
    "AnswerChecked",
    "HintShown",
    "InspectorOpened",
    "LabReport",
    "Lesson",
    "LessonError",
    "LessonFinished",
    "LessonProblem",
    "LessonProgress",
    "LessonRunner",
    "ProgressStore",
    "RunnerMessage",
    "Step",
    "StepCompleted",
    "StepProgressed",
    "StepStarted",
    "Text",
    "check_files",
    "check_lesson",
    "lesson_files",
    "load_lesson",
]
