from django.urls import path

from programs.api import views

urlpatterns = [
    path("programs/<slug:slug>/", views.SyllabusView.as_view(), name="syllabus"),
    path("me/programs/", views.MyProgramsView.as_view(), name="my-programs"),
    path("me/programs/<slug:slug>/", views.MyProgramView.as_view(), name="my-program"),
    path(
        "me/programs/<slug:slug>/milestones/<int:milestone_id>/submissions/",
        views.SubmissionCreateView.as_view(),
        name="my-program-submission",
    ),
    path("certificates/<str:code>/", views.CertificateVerifyView.as_view(), name="certificate"),
]
