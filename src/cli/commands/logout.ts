/** `ctrnet logout [SERVER]` (login.ts keeps both). */
export { logout as command } from './login';
