from django.contrib.auth import views as auth_views
from django.urls import path

from . import api, views

urlpatterns = [
    path("", views.chat_home_view, name="home"),
    path("chat/<str:conversation_id>/", views.conversation_view, name="conversation"),
    path("chat/<str:conversation_id>/delete/", views.conversation_delete_view, name="conversation-delete"),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="conversations/login.html",
                                                         redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/chat", api.ChatApi.as_view(), name="chat-api"),
    path("api/conversations", api.ConversationListApi.as_view(), name="conversation-list-api"),
    path("api/conversations/<str:conversation_id>", api.ConversationDetailApi.as_view(),
         name="conversation-detail-api"),
]
